namespace ScratchDetect.Data.Imaging.Jpeg;

/// <summary>One colour component of a JPEG frame and the decoder's storage for it.</summary>
internal sealed class JpegComponent
{
    /// <summary>Component identifier from the frame header; scans refer to components by it.</summary>
    public required int Id { get; init; }

    /// <summary>Horizontal sampling factor, 1..4.</summary>
    public required int H { get; init; }

    /// <summary>Vertical sampling factor, 1..4.</summary>
    public required int V { get; init; }

    /// <summary>Index (0..3) of the quantisation table the frame header names.</summary>
    public required int QuantTableIndex { get; init; }

    /// <summary>The quantisation table in natural order, copied when the component's first scan starts (as libjpeg latches it).</summary>
    public int[]? Quant { get; set; }

    /// <summary>Samples per line and lines of the component: ceil(image size * factor / max factor).</summary>
    public int SampledWidth { get; set; }

    /// <inheritdoc cref="SampledWidth"/>
    public int SampledHeight { get; set; }

    /// <summary>Blocks per line and block rows including the padding of the last MCUs: the size of <see cref="Plane"/> in blocks.</summary>
    public int BlocksPerLine { get; set; }

    /// <inheritdoc cref="BlocksPerLine"/>
    public int BlockRows { get; set; }

    /// <summary>The decoded samples, BlocksPerLine * 8 wide (<see cref="Stride"/>) and BlockRows * 8 high.</summary>
    public byte[] Plane { get; set; } = [];

    /// <summary>Bytes from one plane row to the next.</summary>
    public int Stride => BlocksPerLine * 8;

    /// <summary>Progressive images only: all quantised coefficients, 64 per block in natural order, blocks row by row.</summary>
    public short[]? Coefficients { get; set; }

    /// <summary>DC prediction (the previous block's DC value) of the running scan.</summary>
    public int DcPredictor { get; set; }

    /// <summary>Huffman tables the running scan assigns to this component.</summary>
    public JpegHuffmanTable? DcTable { get; set; }

    /// <inheritdoc cref="DcTable"/>
    public JpegHuffmanTable? AcTable { get; set; }
}
