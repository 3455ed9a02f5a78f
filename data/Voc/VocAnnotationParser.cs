using System.Globalization;
using System.Xml;
using System.Xml.Linq;

namespace ScratchDetect.Data.Voc;

/// <summary>Thrown for an annotation that is not well-formed XML or lacks a required field.</summary>
public sealed class VocAnnotationException(string filePath, int line, string problem)
    : Exception($"{filePath}:{line}: {problem}")
{
    /// <summary>The annotation file.</summary>
    public string FilePath { get; } = filePath;

    /// <summary>The 1-based line of the problem.</summary>
    public int Line { get; } = line;

    /// <summary>The problem without the location.</summary>
    public string Problem { get; } = problem;
}

/// <summary>Parses Pascal VOC annotation XML with line information, so every problem cites file and line.</summary>
public static class VocAnnotationParser
{
    /// <summary>
    /// VOC annotations never carry a DTD, so DTD processing is prohibited (OWASP's XXE guidance for
    /// .NET): an entity bomb or an external entity is refused as a malformed file instead of being
    /// expanded or fetched, and no resolver is set that could open another file.
    /// </summary>
    static readonly XmlReaderSettings SafeXml = new() { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null };

    /// <summary>Parses the file at <paramref name="path"/>; throws <see cref="VocAnnotationException"/> when malformed.</summary>
    public static VocAnnotation Parse(string path)
    {
        using var stream = File.OpenRead(path);
        return Parse(stream, path);
    }

    /// <summary>Parses annotation XML from <paramref name="stream"/>; <paramref name="path"/> names it in errors.</summary>
    public static VocAnnotation Parse(Stream stream, string path)
    {
        XDocument document;
        try
        {
            using var reader = XmlReader.Create(stream, SafeXml);
            document = XDocument.Load(reader, LoadOptions.SetLineInfo);
        }
        catch (XmlException e) when (e.Message.Contains("DTD", StringComparison.Ordinal))
        {
            throw new VocAnnotationException(path, DoctypeLine(stream),
                "a <!DOCTYPE> (DTD) is not allowed in a VOC annotation; entity definitions and external entities are refused");
        }
        catch (XmlException e)
        {
            throw new VocAnnotationException(path, e.LineNumber, e.Message);
        }

        var root = document.Root!;
        if (root.Name.LocalName != "annotation")
            throw new VocAnnotationException(path, LineOf(root), $"root element is <{root.Name.LocalName}>, expected <annotation>");

        int? width = null, height = null;
        int sizeLine = 0;
        if (root.Element("size") is { } size)
        {
            sizeLine = LineOf(size);
            width = Dimension(path, size, "width");
            height = Dimension(path, size, "height");
        }

        var objects = new List<VocObject>();
        foreach (var element in root.Elements("object"))
        {
            var name = Required(path, element, "name").Value.Trim();
            var box = Required(path, element, "bndbox");
            objects.Add(new VocObject(
                name,
                Number(path, box, "xmin"), Number(path, box, "ymin"), Number(path, box, "xmax"), Number(path, box, "ymax"),
                Flag(path, element, "difficult"), Flag(path, element, "truncated"), LineOf(element)));
        }
        return new VocAnnotation(path, width, height, sizeLine, objects);
    }

    /// <summary>
    /// The 1-based line of the DOCTYPE, which the prohibited-DTD exception does not carry; 0 when
    /// the stream cannot be read again.
    /// </summary>
    static int DoctypeLine(Stream stream)
    {
        if (!stream.CanSeek) return 0;
        stream.Position = 0;
        var text = new StreamReader(stream).ReadToEnd();
        int at = text.IndexOf("<!DOCTYPE", StringComparison.Ordinal);
        return at < 0 ? 0 : 1 + text.AsSpan(0, at).Count('\n');
    }

    static int LineOf(XElement element) => ((IXmlLineInfo)element).LineNumber;

    static XElement Required(string path, XElement parent, string name) =>
        parent.Element(name) ?? throw new VocAnnotationException(path, LineOf(parent), $"<{parent.Name.LocalName}> has no <{name}>");

    /// <summary>A finite number; VOC writes integers but float values are tolerated.</summary>
    static double Number(string path, XElement parent, string name)
    {
        var element = Required(path, parent, name);
        if (!double.TryParse(element.Value.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value))
            throw new VocAnnotationException(path, LineOf(element), $"<{name}> is '{element.Value.Trim()}', not a finite number");
        return value;
    }

    static int Dimension(string path, XElement size, string name)
    {
        double value = Number(path, size, name);
        if (value < 1 || value != Math.Floor(value) || value > int.MaxValue)
            throw new VocAnnotationException(path, LineOf(size.Element(name)!), $"<{name}> is {value}, not a positive integer");
        return (int)value;
    }

    /// <summary>An optional 0/1 flag; absent means false (some VOC2012 objects omit &lt;difficult&gt;).</summary>
    static bool Flag(string path, XElement parent, string name)
    {
        if (parent.Element(name) is not { } element) return false;
        return element.Value.Trim() switch
        {
            "0" => false,
            "1" => true,
            var other => throw new VocAnnotationException(path, LineOf(element), $"<{name}> is '{other}', expected 0 or 1"),
        };
    }
}
