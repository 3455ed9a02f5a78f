using System.Globalization;
using System.Text;
using System.Xml;
using System.Xml.Linq;

namespace ScratchDetect.Data.Voc;

/// <summary>Writes annotation XML in the VOC devkit's layout, which <see cref="VocAnnotationParser"/> reads back.</summary>
public static class VocAnnotationWriter
{
    /// <summary>Writes an annotation for image <paramref name="fileName"/> of the given size; object lines are ignored.</summary>
    public static void Write(string path, string fileName, int width, int height, IEnumerable<VocObject> objects)
    {
        static string N(double v) => v.ToString("R", CultureInfo.InvariantCulture);
        var root = new XElement("annotation",
            new XElement("filename", fileName),
            new XElement("size", new XElement("width", width), new XElement("height", height), new XElement("depth", 3)),
            new XElement("segmented", 0),
            objects.Select(o => new XElement("object",
                new XElement("name", o.Name),
                new XElement("pose", "Unspecified"),
                new XElement("truncated", o.Truncated ? 1 : 0),
                new XElement("difficult", o.Difficult ? 1 : 0),
                new XElement("bndbox",
                    new XElement("xmin", N(o.XMin)), new XElement("ymin", N(o.YMin)),
                    new XElement("xmax", N(o.XMax)), new XElement("ymax", N(o.YMax))))));
        // UTF-8 without a byte-order mark, as the devkit's files are.
        using var writer = XmlWriter.Create(path, new XmlWriterSettings { Indent = true, Encoding = new UTF8Encoding(false) });
        new XDocument(root).Save(writer);
    }
}
