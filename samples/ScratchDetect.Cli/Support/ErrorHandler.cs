using ScratchDetect.Cli.Training;
using ScratchDetect.Data.Evaluation;
using ScratchDetect.Data.Imaging;
using ScratchDetect.Data.Voc;
using ScratchDetect.Engine.IO;
using ScratchDetect.Engine.NN;

namespace ScratchDetect.Cli.Support;

/// <summary>
/// The CLI's one top-level handler for exceptions that escape a command. The project's own
/// exceptions for bad input, and failures to read or write the user's files, are user errors:
/// one line <c>error: MESSAGE</c> on standard error and exit status 2 (the stack trace too under
/// <c>--verbose</c>, for a bug report). Anything else is a bug: it is reported with its stack
/// trace and exit status 3.
/// </summary>
internal static class ErrorHandler
{
    /// <summary>Exit status for bad input: an unusable option, path or file.</summary>
    public const int UserError = 2;

    /// <summary>Exit status for an unexpected exception (a bug in ScratchDetect).</summary>
    public const int InternalError = 3;

    /// <summary>
    /// Whether <paramref name="exception"/> reports bad input rather than a bug. The file-format
    /// exceptions name the file and the rule (TrainConfigException: a train option or config.json entry; DatasetException: an unusable training sample); InvalidDataException is the data library's (an empty
    /// split file); IOException covers SafeTensorsFormatException and files that cannot be read or
    /// written (.NET's messages name the path).
    /// </summary>
    public static bool IsUserError(Exception exception) => exception is UserErrorException or TrainConfigException
        or ImageDecodeException or VocAnnotationException or DatasetException or EvaluationInputException or StateDictMismatchException
        or InvalidDataException or IOException or UnauthorizedAccessException;

    /// <summary>Prints <paramref name="exception"/> to <paramref name="error"/> and returns the exit status.</summary>
    public static int Report(Exception exception, bool verbose, TextWriter error)
    {
        if (IsUserError(exception))
        {
            // Multi-line messages (a state-dict mismatch lists keys) keep their lines; the first
            // line alone says what is wrong.
            error.WriteLine($"error: {exception.Message}");
            if (verbose) error.WriteLine(exception);
            return UserError;
        }
        error.WriteLine($"error: unexpected {exception.GetType().Name}: {exception.Message}");
        error.WriteLine("This is a bug in ScratchDetect; please report it with the details below.");
        error.WriteLine(exception);
        return InternalError;
    }
}
