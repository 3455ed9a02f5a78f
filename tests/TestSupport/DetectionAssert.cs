using ScratchDetect.Engine;
using Xunit.Sdk;

namespace ScratchDetect.Testing;

/// <summary>
/// Compares detections with torchvision's. Tolerances: torchvision's own float32 detections on
/// these weights differ from its float64 ones by up to 8e-3 px in boxes and 3e-5 in scores
/// (tools/frcnn_reference.py --precision-check): the rounding noise any float32 implementation
/// carries through 50 layers. Ours differs from torchvision's float32 by about as much, so boxes
/// may differ by 1e-2 px and scores by 1e-4. The order must be the same, except that detections
/// whose reference scores are within the score tolerance of each other may come in either order
/// (rounding decides between them).
/// </summary>
internal static class DetectionAssert
{
    public const double BoxTolerance = 1e-2, ScoreTolerance = 1e-4;

    /// <summary>The detections of one image in a tools/frcnn_reference.py file: "{image}/boxes", "/labels" and "/scores".</summary>
    public static (Tensor Boxes, Tensor Labels, Tensor Scores) ReferenceDetections(IReadOnlyDictionary<string, Tensor> file, string image) =>
        (file[$"{image}/boxes"], file[$"{image}/labels"], file[$"{image}/scores"]);

    /// <summary>Boxes float32 [D, 4], labels int64 [D] and scores float32 [D] match the expected ones as described above; an empty reference fails.</summary>
    public static void Match((Tensor Boxes, Tensor Labels, Tensor Scores) expected, (Tensor Boxes, Tensor Labels, Tensor Scores) actual, string what)
    {
        var eb = expected.Boxes.ToArray<float>();
        var el = expected.Labels.ToArray<long>();
        var es = expected.Scores.ToArray<float>();
        var ab = actual.Boxes.ToArray<float>();
        var al = actual.Labels.ToArray<long>();
        var asc = actual.Scores.ToArray<float>();
        // Two empty lists agree trivially: a parity test must compare detections that exist.
        if (el.Length == 0)
            throw new XunitException($"{what}: the reference has no detections, so matching it would prove nothing; use an input or threshold that yields some");
        if (al.Length != el.Length)
            throw new XunitException($"{what}: {al.Length} detections, expected {el.Length}");
        var used = new bool[al.Length];
        double worstBox = 0, worstScore = 0;
        for (int i = 0; i < el.Length; i++)
        {
            // Candidates: our detections at positions whose reference scores tie with position i.
            int found = -1;
            for (int j = 0; j < al.Length && found < 0; j++)
            {
                if (used[j] || Math.Abs(es[j] - es[i]) > ScoreTolerance || al[j] != el[i]) continue;
                double boxDiff = Enumerable.Range(0, 4).Max(c => Math.Abs(ab[4 * j + c] - eb[4 * i + c]));
                if (boxDiff <= BoxTolerance && Math.Abs(asc[j] - es[i]) <= ScoreTolerance)
                {
                    found = j;
                    worstBox = Math.Max(worstBox, boxDiff);
                    worstScore = Math.Max(worstScore, Math.Abs(asc[j] - es[i]));
                }
            }
            if (found < 0)
            {
                var closest = Enumerable.Range(0, al.Length).Where(j => al[j] == el[i]).OrderBy(j => Enumerable.Range(0, 4).Max(c => Math.Abs(ab[4 * j + c] - eb[4 * i + c]))).FirstOrDefault(-1);
                string near = closest < 0 ? "no detection of that label" : $"closest of that label: #{closest} box [{string.Join(", ", ab.AsSpan(4 * closest, 4).ToArray())}] score {asc[closest]}";
                throw new XunitException($"{what}: reference detection #{i} (label {el[i]}, box [{string.Join(", ", eb.AsSpan(4 * i, 4).ToArray())}], score {es[i]}) has no counterpart; {near}");
            }
            used[found] = true;
        }
        Console.WriteLine($"{what}: {el.Length} detections matched, max box diff {worstBox:G3} px, max score diff {worstScore:G3}");
    }
}
