namespace ScratchDetect.Cli.Support;

/// <summary>
/// A problem with what the user gave (an option, a path, a file's content), as opposed to a bug.
/// Commands throw it with a message that names the file, option or value and says what is wrong;
/// <see cref="ErrorHandler"/> prints it as one line, <c>error: MESSAGE</c>, and exits with status 2.
/// </summary>
internal sealed class UserErrorException(string message, Exception? inner = null) : Exception(message, inner);
