namespace ScratchDetect.Data.Voc;

/// <summary>One &lt;object&gt; of a VOC annotation, exactly as written (no validation, VOC 1-based inclusive frame).</summary>
/// <param name="Name">The class name.</param>
/// <param name="XMin">Left pixel column, 1-based inclusive.</param>
/// <param name="YMin">Top pixel row, 1-based inclusive.</param>
/// <param name="XMax">Right pixel column, 1-based inclusive.</param>
/// <param name="YMax">Bottom pixel row, 1-based inclusive.</param>
/// <param name="Difficult">The &lt;difficult&gt; flag (absent = false).</param>
/// <param name="Truncated">The &lt;truncated&gt; flag (absent = false).</param>
/// <param name="Line">The line of the &lt;object&gt; element, for problem reports.</param>
public sealed record VocObject(string Name, double XMin, double YMin, double XMax, double YMax, bool Difficult, bool Truncated, int Line);

/// <summary>A parsed VOC annotation file.</summary>
/// <param name="FilePath">The XML file.</param>
/// <param name="Width">The &lt;size&gt;&lt;width&gt;, or null when the file has no &lt;size&gt;.</param>
/// <param name="Height">The &lt;size&gt;&lt;height&gt;, or null when the file has no &lt;size&gt;.</param>
/// <param name="SizeLine">The line of the &lt;size&gt; element (0 when absent).</param>
/// <param name="Objects">The objects in file order; empty for an image without objects.</param>
public sealed record VocAnnotation(string FilePath, int? Width, int? Height, int SizeLine, IReadOnlyList<VocObject> Objects);
