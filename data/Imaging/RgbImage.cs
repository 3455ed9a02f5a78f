namespace ScratchDetect.Data.Imaging;

/// <summary>An 8-bit RGB image stored row-major, height x width x 3 (HWC), as every decoder here returns it.</summary>
/// <param name="Width">Width in pixels.</param>
/// <param name="Height">Height in pixels.</param>
/// <param name="Pixels">Width * Height * 3 bytes: R, G, B for each pixel, rows top to bottom.</param>
public sealed record RgbImage(int Width, int Height, byte[] Pixels);
