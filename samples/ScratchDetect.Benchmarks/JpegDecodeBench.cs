using ScratchDetect.Data.Imaging;

namespace ScratchDetect.Benchmarks;

/// <summary>
/// JPEG decoding speed: ours (ImageIO.ReadRgb from memory) against libjpeg-turbo's
/// `djpeg -dct int -pnm` on the same files, the fixture JPEGs plus a 500x375 VOC-sized photo made
/// with cjpeg at run time. djpeg runs as a process, so each of its runs is paired with a run on an
/// 8x8 JPEG (process start-up, library set-up, a trivial decode) and the median of the paired
/// differences is its decode time; writing the PNM to /dev/null stays in, which favours us a little.
/// Pairing keeps the estimate stable while other processes load the machine.
/// </summary>
public static class JpegDecodeBench
{
    // Medians over many single decodes, so that runs slowed by other processes drop out.
    private const int OurRuns = 201;
    private const int DjpegPairs = 41;

    public static IEnumerable<BenchRow> Run()
    {
        string fixtures = FixtureFolder();
        string temp = Directory.CreateTempSubdirectory("scratchdetect-jpegbench-").FullName;
        try
        {
            var files = Directory.GetFiles(fixtures, "*.jpg").Order().ToList();
            bool haveTools = ToolRuns("djpeg") && ToolRuns("cjpeg");
            if (haveTools)
                files.Add(MakeVocSizedJpeg(Path.Combine(fixtures, "baseline_444.ref.pnm"), temp));

            string tiny = Path.Combine(temp, "tiny_8x8.jpg");
            File.WriteAllBytes(tiny, JpegEncoder.Encode(new RgbImage(8, 8, new byte[8 * 8 * 3])));

            // Let the JIT reach its optimised tier on every decoder path before anything is timed.
            foreach (string file in files)
            {
                var bytes = File.ReadAllBytes(file);
                for (int i = 0; i < 50; i++) ImageIO.ReadRgb(bytes);
            }

            var rows = new List<BenchRow>();
            foreach (string file in files)
            {
                var bytes = File.ReadAllBytes(file);
                var image = ImageIO.ReadRgb(bytes);
                double megapixels = image.Width * image.Height / 1e6;
                double oursMs = Harness.MedianMs(() => ImageIO.ReadRgb(bytes), warmup: 5, runs: OurRuns);
                double? djpegMs = haveTools ? DjpegDecodeMs(file, tiny) : null;
                string notes = $"{image.Width}x{image.Height}, ours {megapixels / oursMs * 1000:F0} MP/s"
                    + (djpegMs is { } d ? $", djpeg {megapixels / d * 1000:F0} MP/s" : ", djpeg/cjpeg not installed");
                rows.Add(new BenchRow($"jpeg decode {Path.GetFileName(file)}", oursMs, djpegMs, "djpeg -dct int", notes));
            }
            return rows;
        }
        finally
        {
            Directory.Delete(temp, recursive: true);
        }
    }

    /// <summary>Median over paired runs of (djpeg on <paramref name="file"/>) - (djpeg on <paramref name="tiny"/>), in milliseconds.</summary>
    private static double DjpegDecodeMs(string file, string tiny)
    {
        var differences = new double[DjpegPairs];
        for (int i = 0; i < DjpegPairs; i++)
            differences[i] = DjpegProcessMs(file) - DjpegProcessMs(tiny);
        Array.Sort(differences);
        return Math.Max(differences[DjpegPairs / 2], 1e-3);
    }

    private static double DjpegProcessMs(string file)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        Harness.RunProcess("djpeg", $"-dct int -pnm -outfile /dev/null \"{file}\"");
        return watch.Elapsed.TotalMilliseconds;
    }

    /// <summary>Resizes the fixture photo to 500x375 (bilinear), the typical Pascal VOC size, and encodes it with cjpeg -quality 90 (4:2:0).</summary>
    private static string MakeVocSizedJpeg(string pnmPath, string folder)
    {
        var photo = ReadPpm(pnmPath);
        const int width = 500, height = 375;
        var pixels = new byte[width * height * 3];
        for (int y = 0; y < height; y++)
        {
            double sy = (y + 0.5) * photo.Height / height - 0.5;
            int y0 = Math.Clamp((int)Math.Floor(sy), 0, photo.Height - 1), y1 = Math.Min(y0 + 1, photo.Height - 1);
            double fy = Math.Clamp(sy - y0, 0, 1);
            for (int x = 0; x < width; x++)
            {
                double sx = (x + 0.5) * photo.Width / width - 0.5;
                int x0 = Math.Clamp((int)Math.Floor(sx), 0, photo.Width - 1), x1 = Math.Min(x0 + 1, photo.Width - 1);
                double fx = Math.Clamp(sx - x0, 0, 1);
                for (int c = 0; c < 3; c++)
                {
                    double top = photo.Pixels[(y0 * photo.Width + x0) * 3 + c] * (1 - fx) + photo.Pixels[(y0 * photo.Width + x1) * 3 + c] * fx;
                    double bottom = photo.Pixels[(y1 * photo.Width + x0) * 3 + c] * (1 - fx) + photo.Pixels[(y1 * photo.Width + x1) * 3 + c] * fx;
                    pixels[(y * width + x) * 3 + c] = (byte)Math.Round(top * (1 - fy) + bottom * fy);
                }
            }
        }
        string ppm = Path.Combine(folder, "voc_500x375.ppm"), jpeg = Path.Combine(folder, "voc_500x375.jpg");
        using (var file = File.Create(ppm))
        {
            file.Write(System.Text.Encoding.ASCII.GetBytes($"P6\n{width} {height}\n255\n"));
            file.Write(pixels);
        }
        Harness.RunProcess("cjpeg", $"-quality 90 -outfile \"{jpeg}\" \"{ppm}\"");
        return jpeg;
    }

    /// <summary>Reads the binary P6 PPM that the fixtures use for their reference decodes.</summary>
    private static RgbImage ReadPpm(string path)
    {
        var bytes = File.ReadAllBytes(path);
        // Header "P6\n<width> <height>\n255\n": four whitespace-separated tokens, no comments in the fixtures.
        int position = 0;
        var tokens = new string[4];
        for (int t = 0; t < 4; t++)
        {
            while (char.IsWhiteSpace((char)bytes[position])) position++;
            int start = position;
            while (!char.IsWhiteSpace((char)bytes[position])) position++;
            tokens[t] = System.Text.Encoding.ASCII.GetString(bytes, start, position - start);
        }
        int width = int.Parse(tokens[1]), height = int.Parse(tokens[2]);
        return new RgbImage(width, height, bytes.AsSpan(position + 1, width * height * 3).ToArray());
    }

    private static bool ToolRuns(string tool)
    {
        try
        {
            Harness.RunProcess(tool, "-version");
            return true;
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>$SCRATCHDETECT_SHARED/fixtures/images, else ../shared/fixtures/images next to the folder holding ScratchDetect.sln.</summary>
    private static string FixtureFolder()
    {
        if (Environment.GetEnvironmentVariable("SCRATCHDETECT_SHARED") is { Length: > 0 } shared)
            return Path.Combine(shared, "fixtures", "images");
        return Path.GetFullPath(Path.Combine(Harness.RepoRoot(), "..", "shared", "fixtures", "images"));
    }
}
