#!/usr/bin/python3
"""OpenCV's Haar cascade (Debian's python3-opencv with opencv-data's haarcascade_frontalface_default.xml) on the photos
of face_photos.json, side by side with Loom's face detector: per photo and in all, faces found (IoU >= 0.5 with a
reference face, each face and each detection matched once) and false alarms (detections matching no face).

    loom faces detect RUN $(/usr/bin/python3 bench/peers/haar_faces.py --list) > loom_faces.csv
    /usr/bin/python3 bench/peers/haar_faces.py --loom loom_faces.csv

The cascade runs with OpenCV's defaults (scale factor 1.1, 3 neighbours) and the smallest face Loom looks for
(--min-face 25): the comparison is of the detectors, not of their search ranges.
"""
import argparse, csv, json, os, sys

HERE = os.path.dirname(os.path.abspath(__file__))
ap = argparse.ArgumentParser()
ap.add_argument("--photos", default=os.path.join(HERE, "face_photos.json"))
ap.add_argument("--loom", help="loom faces detect's CSV output (image,score,x1,y1,x2,y2) on the same photos")
ap.add_argument("--list", action="store_true", help="print the photos' paths and stop")
ap.add_argument("--cascade", default="/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml")
ap.add_argument("--min-face", type=int, default=25)
args = ap.parse_args()

photos = json.load(open(args.photos))["photos"]
if args.list:
    print(" ".join(p["path"] for p in photos))
    sys.exit(0)


def iou(a, b):
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def score(faces, found):
    """(hits, false alarms, best IoU per face): detections in the given order (best first) take the unmatched face they overlap most."""
    matched, hits, best = set(), 0, [0.0] * len(faces)
    for box in found:
        overlaps = [(iou(box, f), i) for i, f in enumerate(faces) if i not in matched]
        for i, f in enumerate(faces):
            best[i] = max(best[i], iou(box, f))
        if overlaps and max(overlaps)[0] >= 0.5:
            matched.add(max(overlaps)[1])
            hits += 1
    return hits, len(found) - hits, best


def haar(path):
    import cv2
    cascade = cv2.CascadeClassifier(args.cascade)
    if cascade.empty():
        sys.exit(f"{args.cascade}: cannot load the cascade (apt-get install opencv-data)")
    image = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
    if image is None:
        sys.exit(f"{path}: cannot read the photo")
    return [[x, y, x + w, y + h] for x, y, w, h in cascade.detectMultiScale(image, minSize=(args.min_face, args.min_face))]


loom = None
if args.loom:
    loom = {p["path"]: [] for p in photos}
    with open(args.loom) as f:
        for row in csv.DictReader(f):
            if row["image"] in loom:  # ordered best first per image, as loom prints them
                loom[row["image"]].append([float(row[k]) for k in ("x1", "y1", "x2", "y2")])

totals = {"faces": 0, "haar_hits": 0, "haar_false": 0, "loom_hits": 0, "loom_false": 0}
header = f"{'photo':24} faces  haar hits  haar false" + ("  loom hits  loom false  loom best IoU" if loom else "")
print(header)
for p in photos:
    faces = p["faces"]
    h_hits, h_false, h_best = score(faces, haar(p["path"]))
    line = f"{os.path.basename(p['path']):24} {len(faces):5}  {h_hits:9}  {h_false:10}"
    totals["faces"] += len(faces)
    totals["haar_hits"] += h_hits
    totals["haar_false"] += h_false
    if loom is not None:
        l_hits, l_false, l_best = score(faces, loom[p["path"]])
        totals["loom_hits"] += l_hits
        totals["loom_false"] += l_false
        line += f"  {l_hits:9}  {l_false:10}  {' '.join(f'{b:.2f}' for b in l_best) or '-':>13}"
    print(line + (f"   (haar best IoU {' '.join(f'{b:.2f}' for b in h_best)})" if faces else ""))
print(f"{'all':24} {totals['faces']:5}  {totals['haar_hits']:9}  {totals['haar_false']:10}" +
      (f"  {totals['loom_hits']:9}  {totals['loom_false']:10}" if loom else ""))
print(json.dumps(totals))
