namespace Loom.Models.Tests.Vision;

public sealed class LabelmeVocFactAttribute() : InstalledDataFactAttribute(AnnotationFormatTests.LabelmeVoc);

/// <summary>Pascal VOC XML and COCO JSON: the labelme examples Debian ships, round trips, and one-line errors.</summary>
public sealed class AnnotationFormatTests : IDisposable
{
    private const string Examples = "/usr/share/doc/labelme-examples/examples/bbox_detection";

    public static readonly InstalledData LabelmeVoc = new("labelme's VOC detection examples", "apt-get install labelme-examples",
        $"{Examples}/data_dataset_voc/Annotations", $"{Examples}/data_annotated");

    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [LabelmeVocFact]
    public void Reads_labelme_s_voc_files_as_the_boxes_drawn_in_labelme()
    {
        LabelmeVoc.Require();
        var files = Directory.GetFiles($"{Examples}/data_dataset_voc/Annotations", "*.xml").Order().ToArray();
        Assert.Equal(3, files.Length);
        int boxes = 0;
        foreach (var file in files)
        {
            var voc = VocXml.Read(file);
            // The source of each file: labelme's own JSON, with the rectangles as drawn ([[x1, y1], [x2, y2]]).
            var source = JsonNode.Parse(File.ReadAllText($"{Examples}/data_annotated/{Path.GetFileNameWithoutExtension(file)}.json"))!;
            Assert.Equal(Path.GetFileNameWithoutExtension(file) + ".jpg", voc.FileName);
            Assert.Equal((int)source["imageWidth"]!, voc.Width);
            Assert.Equal((int)source["imageHeight"]!, voc.Height);
            var shapes = source["shapes"]!.AsArray().Where(s => (string?)s!["shape_type"] == "rectangle").ToArray();
            Assert.Equal(shapes.Length, voc.Objects.Count);
            for (int i = 0; i < shapes.Length; i++)
            {
                var p = shapes[i]!["points"]!.AsArray().Select(q => q!.AsArray().Select(v => (double)v!).ToArray()).ToArray();
                var o = voc.Objects[i];
                Assert.Equal((string)shapes[i]!["label"]!, o.Name);
                // labelme2voc writes the drawn corners as they are; VOC's xmin/ymin count from 1, so Loom's box starts
                // one pixel before them, and its far corner is VOC's xmax/ymax.
                Assert.Equal(Math.Min(p[0][0], p[1][0]) - 1, o.Box.X1, 9);
                Assert.Equal(Math.Min(p[0][1], p[1][1]) - 1, o.Box.Y1, 9);
                Assert.Equal(Math.Max(p[0][0], p[1][0]), o.Box.X2, 9);
                Assert.Equal(Math.Max(p[0][1], p[1][1]), o.Box.Y2, 9);
                Assert.False(o.Difficult); // <difficult/> is empty
                boxes++;
            }
        }
        Assert.True(boxes >= 3);
        var classes = File.ReadAllLines($"{Examples}/data_dataset_voc/class_names.txt");
        Assert.All(files.SelectMany(f => VocXml.Read(f).Objects), o => Assert.Contains(o.Name, classes));
    }

    [LabelmeVocFact]
    public void Labelme_s_files_survive_voc_and_coco_round_trips()
    {
        LabelmeVoc.Require();
        var images = Directory.GetFiles($"{Examples}/data_dataset_voc/Annotations", "*.xml").Order().Select(VocXml.Read).ToList();
        foreach (var image in images)
        {
            var path = _temp.File(image.FileName + ".xml");
            VocXml.Write(path, image);
            AssertSame(image, VocXml.Read(path));
        }
        var classes = images.SelectMany(i => i.Objects).Select(o => o.Name).Distinct().Order().ToArray();
        var coco = _temp.File("instances.json");
        CocoJson.Write(coco, images, classes);
        var back = CocoJson.Read(coco);
        Assert.Equal(images.Count, back.Count);
        for (int i = 0; i < images.Count; i++) AssertSame(images[i], back[i]);
    }

    private static void AssertSame(ImageAnnotation expected, ImageAnnotation actual)
    {
        Assert.Equal((expected.FileName, expected.Width, expected.Height), (actual.FileName, actual.Width, actual.Height));
        Assert.Equal(expected.Objects.Count, actual.Objects.Count);
        for (int i = 0; i < expected.Objects.Count; i++)
        {
            Assert.Equal(expected.Objects[i].Name, actual.Objects[i].Name);
            Assert.Equal(expected.Objects[i].Difficult, actual.Objects[i].Difficult);
            // VOC files keep three decimals: labelme's fractional corners come back to 1e-3.
            Assert.Equal(expected.Objects[i].Box.X1, actual.Objects[i].Box.X1, 3);
            Assert.Equal(expected.Objects[i].Box.Y1, actual.Objects[i].Box.Y1, 3);
            Assert.Equal(expected.Objects[i].Box.X2, actual.Objects[i].Box.X2, 3);
            Assert.Equal(expected.Objects[i].Box.Y2, actual.Objects[i].Box.Y2, 3);
        }
    }

    [Fact]
    public void Written_files_keep_difficult_objects_crowds_and_images_without_objects()
    {
        var images = new List<ImageAnnotation>
        {
            new("a.png", 64, 48, [new("shirt", new Box(0, 0, 10, 12)), new("bag", new Box(5.5, 6, 64, 48), Difficult: true)]),
            new("empty.png", 32, 32, []),
        };
        var coco = _temp.File("coco.json");
        CocoJson.Write(coco, images, ["bag", "shirt"]);
        var back = CocoJson.Read(coco);
        for (int i = 0; i < images.Count; i++) AssertSame(images[i], back[i]);
        var json = JsonNode.Parse(File.ReadAllText(coco))!;
        Assert.Equal([5.5, 6, 58.5, 42], json["annotations"]![1]!["bbox"]!.AsArray().Select(v => (double)v!));
        Assert.Equal(1, (int)json["annotations"]![1]!["iscrowd"]!);

        var voc = _temp.File("a.xml");
        VocXml.Write(voc, images[0]);
        AssertSame(images[0], VocXml.Read(voc));
        Assert.Contains("<xmin>1</xmin>", File.ReadAllText(voc)); // VOC counts pixels from 1
        Assert.Throws<ArgumentException>(() => CocoJson.Write(coco, images, ["bag"]));
    }

    [Fact]
    public void Broken_files_give_one_line_naming_the_file()
    {
        var xml = _temp.File("broken.xml");
        File.WriteAllText(xml, "<annotation>\n  <object><name>cat</name>\n");
        TensorAssert.Throws<InvalidDataException>(() => VocXml.Read(xml), "broken.xml:", "not valid XML");
        File.WriteAllText(xml, "<annotation>\n<object>\n<name>cat</name>\n<bndbox><xmin>5</xmin><ymin>1</ymin><xmax>2</xmax><ymax>9</ymax></bndbox>\n</object>\n</annotation>");
        TensorAssert.Throws<InvalidDataException>(() => VocXml.Read(xml), "broken.xml:4", "'cat'", "inverted");
        File.WriteAllText(xml, "<annotation>\n<object>\n<name>cat</name>\n<bndbox><xmin>5</xmin><ymin>1</ymin><ymax>9</ymax></bndbox>\n</object>\n</annotation>");
        TensorAssert.Throws<InvalidDataException>(() => VocXml.Read(xml), "broken.xml:4", "<xmax>");
        File.WriteAllText(xml, "<doc/>");
        TensorAssert.Throws<InvalidDataException>(() => VocXml.Read(xml), "broken.xml", "<annotation>");
        TensorAssert.Throws<FileNotFoundException>(() => VocXml.Read(_temp.File("none.xml")), "none.xml");

        var json = _temp.File("broken.json");
        File.WriteAllText(json, "{\"images\": [");
        TensorAssert.Throws<InvalidDataException>(() => CocoJson.Read(json), "broken.json:", "not valid JSON");
        File.WriteAllText(json, """{"images": [{"id": 1, "file_name": "a.png", "width": 4, "height": 4}], "categories": [{"id": 1, "name": "x"}], "annotations": [{"id": 7, "image_id": 1, "category_id": 2, "bbox": [0, 0, 1, 1]}]}""");
        TensorAssert.Throws<InvalidDataException>(() => CocoJson.Read(json), "broken.json", "annotation 7", "category 2");
        File.WriteAllText(json, """{"images": [{"id": 1, "file_name": "a.png", "width": 4, "height": 4}], "categories": [], "annotations": [{"id": 3, "image_id": 2, "category_id": 1, "bbox": [0, 0, 1, 1]}]}""");
        TensorAssert.Throws<InvalidDataException>(() => CocoJson.Read(json), "broken.json", "annotation 3", "image 2");
        File.WriteAllText(json, """{"images": [{"id": 1, "width": 4, "height": 4}], "categories": [], "annotations": []}""");
        TensorAssert.Throws<InvalidDataException>(() => CocoJson.Read(json), "broken.json", "\"images\" lacks \"file_name\"");
        File.WriteAllText(json, """{"images": [{"id": "one", "file_name": "a.png", "width": 4, "height": 4}], "categories": [], "annotations": []}""");
        TensorAssert.Throws<InvalidDataException>(() => CocoJson.Read(json), "broken.json", "not a COCO annotation file");
        File.WriteAllText(json, """{"images": []}""");
        TensorAssert.Throws<InvalidDataException>(() => CocoJson.Read(json), "broken.json", "\"categories\"");
    }
}
