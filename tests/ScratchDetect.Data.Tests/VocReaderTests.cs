using System.Text;
using ScratchDetect.Data.Voc;

namespace ScratchDetect.Data.Tests;

public class VocReaderTests
{
    static VocAnnotation Parse(string xml) => VocAnnotationParser.Parse(new MemoryStream(Encoding.UTF8.GetBytes(xml)), "a.xml");

    const string TwoObjects = """
        <annotation>
          <filename>000005.jpg</filename>
          <size><width>500</width><height>375</height><depth>3</depth></size>
          <object>
            <name>chair</name><truncated>1</truncated><difficult>0</difficult>
            <bndbox><xmin>263</xmin><ymin>211</ymin><xmax>324</xmax><ymax>339</ymax></bndbox>
          </object>
          <object>
            <name>dog</name>
            <bndbox><xmin>1.5</xmin><ymin>2</ymin><xmax>10</xmax><ymax>20.25</ymax></bndbox>
            <difficult>1</difficult>
          </object>
        </annotation>
        """;

    [Fact]
    public void ParsesObjectsFlagsAndSize()
    {
        var a = Parse(TwoObjects);
        Assert.Equal((500, 375), (a.Width!.Value, a.Height!.Value));
        Assert.Equal(new VocObject("chair", 263, 211, 324, 339, Difficult: false, Truncated: true, Line: 4), a.Objects[0]);
        // Float coordinates are tolerated; a missing <truncated> is false.
        Assert.Equal(new VocObject("dog", 1.5, 2, 10, 20.25, Difficult: true, Truncated: false, Line: 8), a.Objects[1]);
    }

    [Fact]
    public void ImageWithoutObjectsParses()
    {
        var a = Parse("<annotation><size><width>5</width><height>4</height></size></annotation>");
        Assert.Empty(a.Objects);
    }

    [Theory]
    [InlineData("<annotation>\n<object>\n<name>dog</name>\n</annotation>", 4)] // not well-formed: </annotation> closes <object>
    [InlineData("<annotation>\n<object><name>dog</name>\n<bndbox><xmin>1</xmin><ymin>1</ymin><xmax>x</xmax><ymax>3</ymax></bndbox></object></annotation>", 3)]
    [InlineData("<annotation>\n\n<object><name>dog</name></object></annotation>", 3)] // no <bndbox>
    [InlineData("<annotation><size>\n<width>0</width><height>4</height></size></annotation>", 2)]
    [InlineData("<annotation>\n<object><name>dog</name><difficult>yes</difficult>\n<bndbox><xmin>1</xmin><ymin>1</ymin><xmax>2</xmax><ymax>3</ymax></bndbox></object></annotation>", 2)]
    public void MalformedAnnotationsCiteTheLine(string xml, int line)
    {
        var error = Assert.Throws<VocAnnotationException>(() => Parse(xml));
        Assert.Equal(line, error.Line);
        Assert.StartsWith($"a.xml:{line}: ", error.Message);
    }

    [Fact]
    public void CoordinatesConvertOnceBetweenFrames()
    {
        // The top-left pixel is (1,1,1,1) in VOC and the unit square (0,0,1,1) in the continuous frame.
        Assert.Equal((0.0, 0.0, 1.0, 1.0), VocCoordinates.ToContinuous(1, 1, 1, 1));
        Assert.Equal((1.0, 1.0, 1.0, 1.0), VocCoordinates.ToVoc(0, 0, 1, 1));
        Assert.Equal((47.0, 9.0, 195.0, 371.0), VocCoordinates.ToContinuous(48, 10, 195, 371));
    }

    [Fact]
    public void ValidationDropsClipsAndRejectsWithReasons()
    {
        using var dir = VocLayout.Create();
        VocClasses.WriteLabelsFile(Path.Combine(dir.Path, VocClasses.LabelsFileName), ["cat", "dog"]);
        var dataset = VocDataset.Open(dir.Path);
        Assert.Equal(["cat", "dog"], dataset.Classes);

        var annotation = new VocAnnotation("a.xml", 100, 50, 2,
        [
            new VocObject("dog", 11, 21, 30, 40, false, false, 3),   // fine: continuous (10, 20, 30, 40)
            new VocObject("cat", 30, 5, 29, 9, false, false, 4),     // xmax < xmin: dropped
            new VocObject("cat", -4, 40, 120, 60, true, false, 5),   // outside: clipped to (1, 40, 100, 50)
            new VocObject("cat", 101, 1, 140, 9, false, false, 6),   // entirely right of the image: dropped
        ]);
        var problems = new List<DatasetProblem>();
        var targets = new VocSampleReader(dataset).Validate(annotation, 100, 50, problems);
        Assert.Equal(new float[] { 10, 20, 30, 40, 0, 39, 100, 50 }, targets.Boxes);
        Assert.Equal(new[] { 2, 1 }, targets.Labels);
        Assert.Equal(new[] { false, true }, targets.Difficult);
        Assert.Equal(
            [(ProblemKind.DegenerateBox, 4), (ProblemKind.BoxOutsideImage, 5), (ProblemKind.BoxOutsideImage, 6)],
            problems.Select(p => (p.Kind, p.Line!.Value)));
        Assert.All(problems, p => Assert.Equal(ProblemSeverity.Warning, p.Severity));

        // Without difficult objects the clipped one is left out, silently.
        var withoutDifficult = new VocSampleReader(dataset, keepDifficult: false).Validate(annotation, 100, 50, []);
        Assert.Equal(new[] { 2 }, withoutDifficult.Labels);

        var unknown = new List<DatasetProblem>();
        new VocSampleReader(dataset).Validate(annotation with { Objects = [new VocObject("horse", 1, 1, 5, 5, false, false, 9)] }, 100, 50, unknown);
        var error = Assert.Single(unknown);
        Assert.Equal((ProblemSeverity.Error, ProblemKind.UnknownClass, 9), (error.Severity, error.Kind, error.Line!.Value));
    }

    [Fact]
    public void OpeningADevkitFolderNeedsTheYear()
    {
        using var dir = new TempDir();
        foreach (var sub in new[] { "Annotations", "JPEGImages", Path.Combine("ImageSets", "Main") })
            Directory.CreateDirectory(Path.Combine(dir.Path, "VOC2007", sub));
        var error = Assert.Throws<DirectoryNotFoundException>(() => VocDataset.Open(dir.Path));
        Assert.Contains("year", error.Message);
        var dataset = VocDataset.Open(dir.Path, "2007");
        Assert.Equal(VocClasses.Voc20, dataset.Classes);
        Assert.Equal(15, dataset.LabelOf("person"));
        Assert.Equal(0, dataset.LabelOf("background"));
    }

    [Fact]
    public void LabelsFileRejectsDuplicatesAndBackground()
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "labels.txt");
        File.WriteAllLines(path, ["cat", "", "dog", "cat"]);
        Assert.Contains(":4:", Assert.Throws<FormatException>(() => VocClasses.ReadLabelsFile(path)).Message);
        File.WriteAllLines(path, ["background", "cat"]);
        Assert.Contains(":1:", Assert.Throws<FormatException>(() => VocClasses.ReadLabelsFile(path)).Message);
    }

    /// <summary>
    /// VOC annotations never carry a DTD. A billion-laughs entity bomb, an external entity naming
    /// a local file and an external DTD must each be refused as malformed, naming the file, rather
    /// than expanded, read or fetched.
    /// </summary>
    [Theory]
    [InlineData("""<?xml version="1.0"?><!DOCTYPE annotation [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><annotation><filename>&c;</filename></annotation>""")]
    [InlineData("""<?xml version="1.0"?><!DOCTYPE annotation [<!ENTITY secret SYSTEM "file:///etc/hostname">]><annotation><filename>&secret;</filename></annotation>""")]
    [InlineData("""<!DOCTYPE annotation SYSTEM "http://example.invalid/voc.dtd"><annotation/>""")]
    public void DtdsAreRefusedAsMalformed(string xml)
    {
        var error = Assert.Throws<VocAnnotationException>(() => Parse(xml));
        Assert.Equal("a.xml", error.FilePath);
        Assert.StartsWith("a.xml:1: ", error.Message);
        Assert.Contains("DOCTYPE", error.Message);
    }

    [Fact]
    public void AnEmptySplitIsAnErrorNamingTheFile()
    {
        using var dir = VocLayout.Create();
        string split = Path.Combine(dir.Path, "ImageSets", "Main", "val.txt");
        File.WriteAllText(split, "\n  \n");
        var error = Assert.Throws<InvalidDataException>(() => VocDataset.Open(dir.Path).ReadSplit("val"));
        Assert.Contains(split, error.Message);
        Assert.Contains("lists no images", error.Message);
    }
}
