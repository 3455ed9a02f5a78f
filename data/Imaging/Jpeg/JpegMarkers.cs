namespace ScratchDetect.Data.Imaging.Jpeg;

/// <summary>Marker codes (the byte after 0xFF, T.81 Table B.1) and the marker scan both JPEG coders share.</summary>
internal static class JpegMarkers
{
    public const byte Sof0Baseline = 0xC0;
    public const byte Sof1ExtendedSequential = 0xC1;
    public const byte Sof2Progressive = 0xC2;
    public const byte Sof3Lossless = 0xC3;
    public const byte Dht = 0xC4;
    public const byte Dac = 0xCC;
    public const byte Rst0 = 0xD0;
    public const byte Rst7 = 0xD7;
    public const byte Soi = 0xD8;
    public const byte Eoi = 0xD9;
    public const byte Sos = 0xDA;
    public const byte Dqt = 0xDB;
    public const byte Dnl = 0xDC;
    public const byte Dri = 0xDD;
    public const byte App0 = 0xE0;
    public const byte App1 = 0xE1;
    public const byte App14 = 0xEE;

    /// <summary>
    /// Index of the 0xFF that starts the next marker at or after <paramref name="start"/>, or -1.
    /// 0xFF 0x00 is a stuffed data byte and 0xFF 0xFF a fill byte in front of a marker; neither is one.
    /// </summary>
    public static int FindNext(byte[] data, int start)
    {
        for (int i = Math.Max(start, 0); i + 1 < data.Length; i++)
        {
            if (data[i] == 0xFF && data[i + 1] is not 0x00 and not 0xFF)
                return i;
        }
        return -1;
    }
}
