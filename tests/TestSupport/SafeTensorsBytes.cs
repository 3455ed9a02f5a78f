using System.Text;

namespace ScratchDetect.Testing;

/// <summary>Hand-made safetensors bytes for tests of damaged and forged files.</summary>
internal static class SafeTensorsBytes
{
    /// <summary>A file whose header is exactly <paramref name="header"/> (unpadded) followed by <paramref name="dataBytes"/> zero bytes.</summary>
    public static byte[] WithHeader(string header, int dataBytes)
    {
        var json = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + dataBytes];
        BitConverter.GetBytes((ulong)json.Length).CopyTo(bytes, 0);
        json.CopyTo(bytes, 8);
        return bytes;
    }
}
