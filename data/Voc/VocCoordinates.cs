namespace ScratchDetect.Data.Voc;

/// <summary>
/// The one place where box coordinates change frame.
/// <para>
/// VOC annotations (and the devkit's evaluation) use 1-based, inclusive pixel indices: a box covering only
/// the top-left pixel is (1, 1, 1, 1). The models use torchvision's continuous frame, where the image spans
/// 0..W by 0..H and that same pixel is (0, 0, 1, 1). So continuous = (x1 - 1, y1 - 1, x2, y2), and back.
/// </para>
/// </summary>
public static class VocCoordinates
{
    /// <summary>Converts a VOC (1-based inclusive) box to the continuous frame.</summary>
    public static (double X1, double Y1, double X2, double Y2) ToContinuous(double x1, double y1, double x2, double y2) =>
        (x1 - 1, y1 - 1, x2, y2);

    /// <summary>Converts a continuous-frame box to VOC (1-based inclusive) coordinates.</summary>
    public static (double X1, double Y1, double X2, double Y2) ToVoc(double x1, double y1, double x2, double y2) =>
        (x1 + 1, y1 + 1, x2, y2);
}
