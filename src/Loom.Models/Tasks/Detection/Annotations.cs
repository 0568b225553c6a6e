using System.Text.Json;
using System.Text.Json.Nodes;
using System.Xml;
using System.Xml.Linq;

namespace Loom.Models;

/// <summary>One annotated object: its class name, box and Pascal VOC's "difficult" flag (objects VOC's evaluation ignores).</summary>
public sealed record AnnotatedObject(string Name, Box Box, bool Difficult = false);

/// <summary>The objects annotated in one image, with the image's file name and size.</summary>
public sealed record ImageAnnotation(string FileName, int Width, int Height, IReadOnlyList<AnnotatedObject> Objects);

/// <summary>
/// Pascal VOC annotation files: one XML file per image (&lt;annotation&gt; with &lt;filename&gt;, &lt;size&gt; and an
/// &lt;object&gt; per box). VOC numbers pixels from 1 and its corners are inclusive, so a box over the pixels 1..10 is
/// xmin 1, xmax 10; Loom's <see cref="Box"/> has continuous corners from 0, so that box is X1 0, X2 10: reading subtracts
/// 1 from xmin and ymin, writing adds it back. Fractional coordinates (some tools write them) are read as given.
/// </summary>
public static class VocXml
{
    /// <exception cref="InvalidDataException">Not XML, not a VOC annotation, or a box that is missing a corner or inverted; one line naming the file (and the line).</exception>
    public static ImageAnnotation Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such annotation file", path);
        XDocument doc;
        try
        {
            doc = XDocument.Load(path, LoadOptions.SetLineInfo);
        }
        catch (XmlException e)
        {
            throw new InvalidDataException($"{path}:{e.LineNumber}:{e.LinePosition}: not valid XML ({e.Message.Split('\n')[0].TrimEnd('.')})");
        }
        var root = doc.Root;
        if (root?.Name.LocalName != "annotation") throw new InvalidDataException($"{path}: a Pascal VOC annotation has <annotation> as its root element, found <{root?.Name.LocalName}>");
        string fileName = root.Element("filename")?.Value.Trim() ?? "";
        var size = root.Element("size");
        int width = size is null ? 0 : Integer(path, size, "width"), height = size is null ? 0 : Integer(path, size, "height");
        var objects = new List<AnnotatedObject>();
        foreach (var o in root.Elements("object"))
        {
            string name = o.Element("name")?.Value.Trim() ?? "";
            if (name.Length == 0) throw new InvalidDataException($"{path}:{Line(o)}: an <object> without a <name>");
            var b = o.Element("bndbox") ?? throw new InvalidDataException($"{path}:{Line(o)}: object '{name}' has no <bndbox>");
            double xmin = Number(path, b, "xmin"), ymin = Number(path, b, "ymin"), xmax = Number(path, b, "xmax"), ymax = Number(path, b, "ymax");
            if (xmax < xmin || ymax < ymin) throw new InvalidDataException($"{path}:{Line(b)}: object '{name}' has an inverted box (xmin {xmin}, xmax {xmax}, ymin {ymin}, ymax {ymax})");
            bool difficult = o.Element("difficult")?.Value.Trim() is "1" or "true";
            objects.Add(new AnnotatedObject(name, new Box(xmin - 1, ymin - 1, xmax, ymax), difficult));
        }
        return new ImageAnnotation(fileName, width, height, objects);
    }

    public static void Write(string path, ImageAnnotation annotation)
    {
        static string F(double v) => v.ToString("0.###", CultureInfo.InvariantCulture);
        var root = new XElement("annotation",
            new XElement("filename", annotation.FileName),
            new XElement("size", new XElement("width", annotation.Width), new XElement("height", annotation.Height), new XElement("depth", 3)),
            annotation.Objects.Select(o => new XElement("object",
                new XElement("name", o.Name),
                new XElement("difficult", o.Difficult ? 1 : 0),
                new XElement("bndbox",
                    new XElement("xmin", F(o.Box.X1 + 1)), new XElement("ymin", F(o.Box.Y1 + 1)),
                    new XElement("xmax", F(o.Box.X2)), new XElement("ymax", F(o.Box.Y2))))));
        new XDocument(root).Save(path);
    }

    private static int Line(XElement e) => ((IXmlLineInfo)e).LineNumber;

    private static double Number(string path, XElement parent, string name)
    {
        var e = parent.Element(name) ?? throw new InvalidDataException($"{path}:{Line(parent)}: <{parent.Name.LocalName}> has no <{name}>");
        if (!double.TryParse(e.Value.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
            throw new InvalidDataException($"{path}:{Line(e)}: <{name}> must be a number, got '{e.Value.Trim()}'");
        return v;
    }

    private static int Integer(string path, XElement parent, string name)
    {
        double v = Number(path, parent, name);
        if (v < 0 || v != Math.Floor(v)) throw new InvalidDataException($"{path}:{Line(parent.Element(name)!)}: <{name}> must be a whole number of pixels, got {v}");
        return (int)v;
    }
}

/// <summary>
/// COCO's object-detection annotation file: one JSON object with "images" (id, file_name, width, height),
/// "categories" (id, name) and "annotations" (image_id, category_id, bbox [x, y, width, height] in pixels from 0,
/// area, iscrowd). Crowd annotations (iscrowd 1) are read as difficult objects, which evaluation may ignore.
/// </summary>
public static class CocoJson
{
    /// <summary>The images in the file's order, each with its annotations in the file's order.</summary>
    /// <exception cref="InvalidDataException">Not JSON, a missing key, an annotation of an unknown image or category; one line naming the file.</exception>
    public static IReadOnlyList<ImageAnnotation> Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such annotation file", path);
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(path));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}:{e.LineNumber + 1}:{e.BytePositionInLine + 1}: not valid JSON");
        }
        if (root is not JsonObject o) throw new InvalidDataException($"{path}: a COCO annotation file is a JSON object with images, annotations and categories");
        try
        {
            // A missing key reads as null, which the casts below would turn into null or zero rather than an error.
            JsonNode Get(JsonNode? item, string list, string key) =>
                item?[key] ?? throw new InvalidDataException($"{path}: an entry of \"{list}\" lacks \"{key}\"");
            var categories = Array(path, o, "categories").ToDictionary(c => (long)Get(c, "categories", "id"), c => (string)Get(c, "categories", "name")!);
            var images = Array(path, o, "images").Select(i => (Id: (long)Get(i, "images", "id"), File: (string)Get(i, "images", "file_name")!,
                W: (int)Get(i, "images", "width"), H: (int)Get(i, "images", "height"))).ToList();
            var objects = images.ToDictionary(i => i.Id, _ => new List<AnnotatedObject>());
            foreach (var entry in Array(path, o, "annotations"))
            {
                var a = entry ?? throw new InvalidDataException($"{path}: \"annotations\" holds a null");
                long image = (long)Get(a, "annotations", "image_id"), category = (long)Get(a, "annotations", "category_id");
                if (!objects.TryGetValue(image, out var list)) throw new InvalidDataException($"{path}: annotation {a["id"]} is of image {image}, which \"images\" does not list");
                if (!categories.TryGetValue(category, out var name)) throw new InvalidDataException($"{path}: annotation {a["id"]} has category {category}, which \"categories\" does not list");
                var bbox = a["bbox"]?.AsArray().Select(v => (double)v!).ToArray();
                if (bbox is not { Length: 4 } || bbox[2] < 0 || bbox[3] < 0) throw new InvalidDataException($"{path}: annotation {a["id"]} needs \"bbox\": [x, y, width, height] with width and height ≥ 0");
                list.Add(new AnnotatedObject(name, new Box(bbox[0], bbox[1], bbox[0] + bbox[2], bbox[1] + bbox[3]), (int?)a["iscrowd"] == 1));
            }
            return images.Select(i => new ImageAnnotation(i.File, i.W, i.H, objects[i.Id])).ToList();
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or NullReferenceException or ArgumentException)
        {
            throw new InvalidDataException($"{path}: not a COCO annotation file: an image, category or annotation lacks a field or has one of the wrong type ({e.Message.Split('\n')[0]})");
        }
    }

    /// <summary>Writes images, categories (<paramref name="classes"/>, ids from 1) and annotations (ids from 1).</summary>
    public static void Write(string path, IReadOnlyList<ImageAnnotation> images, IReadOnlyList<string> classes)
    {
        var categoryId = classes.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => p.i + 1);
        var annotations = new JsonArray();
        foreach (var (image, imageIndex) in images.Select((im, i) => (im, i)))
            foreach (var obj in image.Objects)
            {
                if (!categoryId.TryGetValue(obj.Name, out int id)) throw new ArgumentException($"CocoJson: object class '{obj.Name}' of {image.FileName} is not among the classes given");
                annotations.Add(new JsonObject
                {
                    ["id"] = annotations.Count + 1, ["image_id"] = imageIndex + 1, ["category_id"] = id,
                    ["bbox"] = new JsonArray(obj.Box.X1, obj.Box.Y1, obj.Box.Width, obj.Box.Height),
                    ["area"] = obj.Box.Area, ["iscrowd"] = obj.Difficult ? 1 : 0,
                });
            }
        var root = new JsonObject
        {
            ["images"] = new JsonArray(images.Select((im, i) => (JsonNode)new JsonObject { ["id"] = i + 1, ["file_name"] = im.FileName, ["width"] = im.Width, ["height"] = im.Height }).ToArray()),
            ["annotations"] = annotations,
            ["categories"] = new JsonArray(classes.Select((c, i) => (JsonNode)new JsonObject { ["id"] = i + 1, ["name"] = c }).ToArray()),
        };
        File.WriteAllText(path, root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    private static JsonArray Array(string path, JsonObject o, string key) =>
        o[key] as JsonArray ?? throw new InvalidDataException($"{path}: lacks the \"{key}\" list of a COCO annotation file");
}
