namespace ScratchDetect.Data.Voc;

/// <summary>How bad a <see cref="DatasetProblem"/> is.</summary>
public enum ProblemSeverity
{
    /// <summary>The sample is still usable after a documented fix (a box dropped or clipped).</summary>
    Warning,

    /// <summary>The sample cannot be used: loading skips it (or fails fast) and `dataset check` exits non-zero.</summary>
    Error,
}

/// <summary>What went wrong with a sample.</summary>
public enum ProblemKind
{
    /// <summary>The annotation or image file does not exist.</summary>
    MissingFile,

    /// <summary>The image file could not be decoded.</summary>
    UnreadableImage,

    /// <summary>The annotation is not well-formed XML or lacks a required field (error).</summary>
    MalformedXml,

    /// <summary>A box reaches outside the image: clipped, or dropped when nothing is left (warning).</summary>
    BoxOutsideImage,

    /// <summary>A box with xmax &lt; xmin or ymax &lt; ymin: dropped (warning).</summary>
    DegenerateBox,

    /// <summary>An object's name is not in the class list (error).</summary>
    UnknownClass,

    /// <summary>The size recorded in the annotation disagrees with the decoded image (error).</summary>
    SizeMismatch,
}

/// <summary>One problem found in a dataset, naming the file and, where known, the line.</summary>
/// <param name="Severity">Whether the sample remains usable.</param>
/// <param name="Kind">The category of the problem.</param>
/// <param name="File">The file the problem is in.</param>
/// <param name="Line">The 1-based line in <paramref name="File"/>, or null when not applicable.</param>
/// <param name="Message">A sentence describing the problem and what was done about it.</param>
public sealed record DatasetProblem(ProblemSeverity Severity, ProblemKind Kind, string File, int? Line, string Message)
{
    /// <summary>"file:line: severity: message", the format compilers use.</summary>
    public override string ToString() =>
        $"{File}{(Line is { } l ? $":{l}" : "")}: {Severity.ToString().ToLowerInvariant()}: {Message}";
}

/// <summary>Thrown when a sample is unusable and the caller asked to fail fast.</summary>
public sealed class DatasetException(DatasetProblem problem) : Exception(problem.ToString())
{
    /// <summary>The problem that stopped loading.</summary>
    public DatasetProblem Problem { get; } = problem;
}
