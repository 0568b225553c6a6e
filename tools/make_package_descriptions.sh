#!/usr/bin/env bash
# Writes Debian's package index WITH long descriptions, for `loom train --data packages.txt` (summarisation).
#
# `apt-cache dumpavail` and the Packages files under /var/lib/apt/lists hold only each package's synopsis: the long
# descriptions live in the Translation-en indexes, which Docker images of Debian tell apt not to fetch
# (/etc/apt/apt.conf.d/docker-no-languages). This fetches the lists once more into a private folder with English
# translations allowed (the system's own lists are left alone) and prints every package as `apt-cache show` does,
# which joins the two: Package, Source, Description-en with the long text.
#
# usage: tools/make_package_descriptions.sh [OUT]   (default packages.txt; about 74 MB, 63,700 packages on Debian 12)
set -euo pipefail
out=${1:-packages.txt}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/parts" "$work/lists/partial"
cp /etc/apt/apt.conf.d/* "$work/parts/" 2>/dev/null || true
rm -f "$work/parts/docker-no-languages"
printf 'Dir::Etc::parts "%s/parts";\nDir::State::Lists "%s/lists";\nAcquire::Languages { "en"; };\n' "$work" "$work" > "$work/apt.conf"
export APT_CONFIG="$work/apt.conf"
apt-get update -qq
apt-cache pkgnames | sort | xargs apt-cache show --no-all-versions > "$out"
echo "wrote $(grep -c '^Package:' "$out") packages to $out" >&2
