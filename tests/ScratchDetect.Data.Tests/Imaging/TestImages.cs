using System.Diagnostics;
using System.Text.Json;
using ScratchDetect.Data.Imaging;

namespace ScratchDetect.Data.Tests.Imaging;

/// <summary>Finds the shared reference fixtures, reads PNM references and runs the reference tools (djpeg, cjpeg, PIL).</summary>
internal static class TestImages
{
    /// <summary>The repository root: the first folder above the test binaries that holds ScratchDetect.sln.</summary>
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    /// <summary>The shared folder: $SCRATCHDETECT_SHARED, else ../shared next to the repository.</summary>
    public static string SharedFolder =>
        Environment.GetEnvironmentVariable("SCRATCHDETECT_SHARED") is { Length: > 0 } shared
            ? shared
            : Path.GetFullPath(Path.Combine(RepositoryRoot, "..", "shared"));

    public static string FixtureFolder => Path.Combine(SharedFolder, "fixtures", "images");

    public static string Fixture(string name) => Path.Combine(FixtureFolder, name);

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ScratchDetect.sln")))
                return dir.FullName;
        }
        throw new InvalidOperationException($"no ScratchDetect.sln above {AppContext.BaseDirectory}");
    }

    /// <summary>The (file, reference) pairs of fixtures/images/manifest.json.</summary>
    public static IEnumerable<(string File, string Reference)> Manifest()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(FixtureFolder, "manifest.json")));
        foreach (var entry in document.RootElement.EnumerateArray())
            yield return (entry.GetProperty("file").GetString()!, entry.GetProperty("reference").GetString()!);
    }

    /// <summary>Reads a binary PGM (P5) or PPM (P6) with maxval 255; gray is expanded to RGB.</summary>
    public static RgbImage ReadPnm(string path)
    {
        var bytes = File.ReadAllBytes(path);
        int position = 0;
        string NextToken()
        {
            while (true)
            {
                while (char.IsWhiteSpace((char)bytes[position])) position++;
                if (bytes[position] != '#') break;
                while (bytes[position] != '\n') position++;
            }
            int start = position;
            while (!char.IsWhiteSpace((char)bytes[position])) position++;
            return System.Text.Encoding.ASCII.GetString(bytes, start, position - start);
        }
        string magic = NextToken();
        int width = int.Parse(NextToken()), height = int.Parse(NextToken()), maxValue = int.Parse(NextToken());
        position++; // the single whitespace byte before the samples
        if (maxValue != 255 || magic is not ("P5" or "P6"))
            throw new InvalidDataException($"{path}: only binary P5/P6 with maxval 255 are read here");
        var pixels = new byte[width * height * 3];
        if (magic == "P6")
        {
            bytes.AsSpan(position, pixels.Length).CopyTo(pixels);
        }
        else
        {
            for (int i = 0; i < width * height; i++)
                pixels[3 * i] = pixels[3 * i + 1] = pixels[3 * i + 2] = bytes[position + i];
        }
        return new RgbImage(width, height, pixels);
    }

    /// <summary>Writes a binary PPM (P6), the input format of cjpeg.</summary>
    public static void WritePpm(string path, RgbImage image)
    {
        using var file = File.Create(path);
        file.Write(System.Text.Encoding.ASCII.GetBytes($"P6\n{image.Width} {image.Height}\n255\n"));
        file.Write(image.Pixels);
    }

    /// <summary>Runs a tool and fails the test with its standard error if it does not exit with 0.</summary>
    public static void Run(string fileName, params string[] arguments)
    {
        var psi = new ProcessStartInfo(fileName) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in arguments) psi.ArgumentList.Add(argument);
        using var process = Process.Start(psi)!;
        process.StandardOutput.ReadToEnd();
        string errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{fileName} {string.Join(' ', arguments)} failed ({process.ExitCode}): {errors}");
    }

    /// <summary>The system Python that has PIL (the python3 on PATH may be another interpreter).</summary>
    public const string Python = "/usr/bin/python3";

    /// <summary>Runs a Python script with PIL available.</summary>
    public static void RunPython(string script, params string[] arguments) => Run(Python, ["-c", script, .. arguments]);

    /// <summary>djpeg's reference decode of a JPEG: accurate integer IDCT, fancy upsampling (its defaults, spelled out).</summary>
    public static RgbImage DjpegDecode(string jpegPath, string tempFolder)
    {
        string output = Path.Combine(tempFolder, Path.GetFileNameWithoutExtension(jpegPath) + ".djpeg.pnm");
        Run("djpeg", "-dct", "int", "-pnm", "-outfile", output, jpegPath);
        return ReadPnm(output);
    }
}

/// <summary>A fresh temporary folder, deleted on dispose.</summary>
internal sealed class TempFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("scratchdetect-imaging-").FullName;

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
