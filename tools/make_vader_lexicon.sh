#!/usr/bin/env bash
# Rebuilds src/Loom.Models/Resources/vader_lexicon.tsv from the npm package vader-sentiment 1.1.3 (Apache-2.0): the
# token and mean-valence columns of its vader_lexicon.txt (the per-rater scores are not used).
set -euo pipefail
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack vader-sentiment@1.1.3 >/dev/null && tar xzf vader-sentiment-1.1.3.tgz)
cut -f1,2 "$work/package/vader_lexicon.txt" > "$(dirname "$0")/../src/Loom.Models/Resources/vader_lexicon.tsv"
