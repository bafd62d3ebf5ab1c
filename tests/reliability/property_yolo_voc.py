"""Property: YOLO and VOC datasets, valid or mutated (lines reordered, label files or folders missing, values cut
or retyped, files cut), are read as exactly their objects or refused with one line naming a file; an image read as
a negative because its label file is missing is always said in a note."""

from __future__ import annotations

import shutil

from exporter_corpus import H, W, write_voc, write_yolo
from hypothesis import given
from hypothesis import strategies as st
from hypothesis_corpus import ERROR, SAME, check, outcome, scratch

# boxes on a 16-pixel grid of the W x H image: exact in float32 both as normalised cx cy w h and as VOC pixels
box = st.tuples(st.integers(0, W - 4), st.integers(0, H - 4), st.integers(2, 4), st.integers(2, 4))


@st.composite
def yolo_dataset(draw) -> dict:
    """split → stem → [(class, x, y, w, h) in pixels]"""
    splits = {"train": draw(st.integers(1, 3))} | ({"val": draw(st.integers(1, 2))} if draw(st.booleans()) else {})
    return {s: {f"{s}{k}": draw(st.lists(st.tuples(st.integers(0, 1), box), max_size=3)) for k in range(n)}
            for s, n in splits.items()}


def yolo_text(objs) -> str:
    return "".join(f"{c} {(x + w / 2) / W!r} {(y + h / 2) / H!r} {w / W!r} {h / H!r}\n" for c, (x, y, w, h) in objs)


def yolo_objects(labels: dict) -> list:
    return sorted((f"{stem}.png", c, (float(x), float(y), float(x + w), float(y + h)))
                  for files in labels.values() for stem, objs in files.items() for c, (x, y, w, h) in objs)


def objects_read(index) -> list:
    return sorted((r.path.name, int(label), tuple(round(float(v), 3) for v in b))
                  for r in index.records for label, b in zip(r.labels, r.boxes))


YOLO_MUTATIONS = ["none", "reorder_lines", "blank_lines", "drop_label_file", "drop_labels_folder", "cut_line",
                  "retype_value", "class_out_of_range", "move_images", "drop_names"]


@given(yolo_dataset(), st.sampled_from(YOLO_MUTATIONS), st.data())
def test_yolo_reads_exactly_the_valid_objects_or_names_the_file(labels, mutation, data):
    from visiontrain.data.formats.yolo import YoloReader

    with scratch() as root:
        texts = {s: {stem: yolo_text(objs) for stem, objs in files.items()} for s, files in labels.items()}
        expect, expected, note = SAME, yolo_objects(labels), None
        split = data.draw(st.sampled_from(sorted(labels)))
        stem = data.draw(st.sampled_from(sorted(labels[split])))
        lines = texts[split][stem].splitlines(keepends=True)
        if mutation == "reorder_lines":
            texts[split][stem] = "".join(data.draw(st.permutations(lines)))
        elif mutation == "blank_lines":
            texts[split][stem] = "\n  \n" + texts[split][stem].replace("\n", "\n\n") + "   "
        elif mutation == "drop_label_file" and len(labels[split]) > 1:
            texts[split][stem] = None
            expected = [o for o in expected if o[0] != f"{stem}.png"]
            note = f"'{split}' images have no label file"
        elif mutation == "cut_line" and lines:
            values = lines[0].split()
            lines[0] = " ".join(values[:data.draw(st.integers(2, 4))]) + "\n"
            texts[split][stem], expect = "".join(lines), ERROR
        elif mutation == "retype_value" and lines:
            values = lines[0].split()
            values[data.draw(st.integers(0, 4))] = data.draw(st.sampled_from(["abc", "nan", "inf", "0x1", "1,5"]))
            lines[0] = " ".join(values) + "\n"
            texts[split][stem], expect = "".join(lines), ERROR
        elif mutation == "class_out_of_range" and lines:
            lines[0] = data.draw(st.sampled_from(["2", "-1", "0.5"])) + lines[0][1:]
            texts[split][stem], expect = "".join(lines), ERROR
        data_yaml = write_yolo(root, texts)
        if mutation == "drop_labels_folder":
            shutil.rmtree(root / "labels" / split, ignore_errors=True)
            expect = ERROR
        elif mutation == "move_images":
            (root / "images" / split).rename(root / "images" / f"{split}_old")
            expect = ERROR
        elif mutation == "drop_names":
            data_yaml.write_text(data_yaml.read_text().replace('"names"', '"nams"'))
            expect = ERROR
        got = outcome(lambda: YoloReader(str(data_yaml)).load_index(), root)
        check("yolo", expect, got, expected, objects_read)
        if note and got[0] == "ok":
            assert any(note in n for n in got[1].notes), "images read as negatives without a note"


@st.composite
def voc_dataset(draw) -> dict:
    n = draw(st.integers(1, 4))
    return {f"i{k}": draw(st.lists(st.tuples(st.sampled_from(["cat", "dog"]), box), min_size=1, max_size=3))
            for k in range(n)}


def voc_objects(objects: dict) -> list:
    return sorted((f"{stem}.png", name, (float(x), float(y), float(x + w), float(y + h)))
                  for stem, objs in objects.items() for name, (x, y, w, h) in objs)


VOC_MUTATIONS = ["none", "reorder_objects", "drop_coordinate", "retype_coordinate", "delete_xml", "delete_image",
                 "cut_xml", "list_unknown_id"]


@given(voc_dataset(), st.sampled_from(VOC_MUTATIONS), st.data())
def test_voc_reads_exactly_the_valid_objects_or_names_the_file(objects, mutation, data):
    from visiontrain.data.formats.voc import VocReader

    with scratch() as root:
        stem = data.draw(st.sampled_from(sorted(objects)))
        written = {s: [(n, (x + 1, y + 1, x + w, y + h)) for n, (x, y, w, h) in objs] for s, objs in objects.items()}
        if mutation == "reorder_objects":
            written[stem] = data.draw(st.permutations(written[stem]))
        write_voc(root, written)
        xml = root / "Annotations" / f"{stem}.xml"
        expect = SAME
        if mutation == "drop_coordinate":
            tag = data.draw(st.sampled_from(["xmin", "ymin", "xmax", "ymax"]))
            text = xml.read_text()
            start = text.index(f"<{tag}>")
            xml.write_text(text[:start] + text[text.index(f"</{tag}>") + len(tag) + 3:])
            expect = ERROR
        elif mutation == "retype_coordinate":
            text = xml.read_text()
            start = text.index("<xmax>") + len("<xmax>")
            xml.write_text(text[:start] + data.draw(st.sampled_from(["abc", "", "nan"])) + text[text.index("</xmax>"):])
            expect = ERROR
        elif mutation == "delete_xml":
            xml.unlink()
            expect = ERROR
        elif mutation == "delete_image":
            (root / "JPEGImages" / f"{stem}.png").unlink()
            expect = ERROR
        elif mutation == "cut_xml":
            text = xml.read_text()
            xml.write_text(text[:data.draw(st.integers(0, len(text) - 2))])
            expect = ERROR
        elif mutation == "list_unknown_id":
            with open(root / "ImageSets" / "Main" / "train.txt", "a") as f:
                f.write("never_copied\n")
            expect = ERROR
        got = outcome(lambda: VocReader(str(root), val=None).load_index(), root)
        names = lambda index: sorted((r.path.name, index.class_names[int(label)],
                                      tuple(round(float(v), 3) for v in b))
                                     for r in index.records for label, b in zip(r.labels, r.boxes))
        check("voc", expect, got, voc_objects(objects), names)
