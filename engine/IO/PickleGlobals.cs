using System.Text;

namespace ScratchDetect.Engine.IO;

/// <summary>
/// Walks the opcodes of one pickle without running any of them and lists the globals (module,
/// name) it would look up: GLOBAL and INST name theirs inline; STACK_GLOBAL takes two strings
/// from the stack, which must have been pushed by the opcodes just before it (directly, or fetched
/// from the memo). Anything this cannot vouch for is refused: an unknown opcode, a STACK_GLOBAL
/// whose operands it cannot see, the extension registry (EXT1/2/4) and out-of-band buffers. The
/// opcode table is pickletools' (protocols 0 to 5).
/// </summary>
internal static class PickleGlobals
{
    /// <summary>One pickle's globals and where it ends.</summary>
    /// <param name="Globals">Every (module, name) the pickle would import, in order.</param>
    /// <param name="End">The offset just past its STOP opcode.</param>
    public readonly record struct Scan(IReadOnlyList<(string Module, string Name)> Globals, int End);

    /// <summary>Scans the pickle starting at <paramref name="start"/>; <paramref name="source"/> names it in errors.</summary>
    /// <exception cref="InvalidDataException">The opcodes are malformed, truncated or not ones this reader accepts.</exception>
    public static Scan Read(byte[] data, int start, string source)
    {
        var globals = new List<(string, string)>();
        var memo = new Dictionary<long, string?>();
        var recent = new List<string?>(); // what the last opcodes pushed: a string, or null for anything else
        int position = start;

        byte Byte() => position < data.Length ? data[position++] : throw Truncated();
        ReadOnlySpan<byte> Take(long count)
        {
            if (count < 0 || count > data.Length - position) throw Truncated();
            var span = data.AsSpan(position, (int)count);
            position += (int)count;
            return span;
        }
        long UInt(int bytes)
        {
            long value = 0;
            for (int i = 0; i < bytes; i++) value |= (long)Byte() << (8 * i);
            return value;
        }
        int Int4() => (int)UInt(4);
        string Line()
        {
            int end = Array.IndexOf(data, (byte)'\n', position);
            if (end < 0) throw Truncated();
            var text = Encoding.UTF8.GetString(data, position, end - position);
            position = end + 1;
            return text;
        }
        void Push(string? value) => recent.Add(value);
        InvalidDataException Truncated() => new($"{source}: the pickle ends in the middle of an opcode (offset {position})");
        InvalidDataException Refuse(string why) => new($"{source}: {why}; refused (only a state dict of tensors is read)");

        while (true)
        {
            int at = position;
            byte opcode = Byte();
            switch ((char)opcode)
            {
                case '.': // STOP
                    return new Scan(globals, position);
                case 'c': // GLOBAL module\nname\n
                case 'i': // INST module\nname\n
                    {
                        string module = Line(), name = Line();
                        globals.Add((module, name));
                        recent.Clear();
                        Push(null);
                        break;
                    }
                case '\x93': // STACK_GLOBAL
                    {
                        if (recent.Count < 2 || recent[^1] is not { } name || recent[^2] is not { } module)
                            throw Refuse($"STACK_GLOBAL at offset {at} takes its module and name from values this reader cannot see");
                        globals.Add((module, name));
                        recent.Clear();
                        Push(null);
                        break;
                    }
                case '\x82' or '\x83' or '\x84': // EXT1/2/4: globals by registry code
                    throw Refuse($"opcode EXT at offset {at} names a global through the copyreg extension registry");
                case '\x97': // NEXT_BUFFER
                    throw Refuse($"opcode NEXT_BUFFER at offset {at} needs out-of-band data");
                // Strings, which STACK_GLOBAL may consume.
                case 'X': Push(Encoding.UTF8.GetString(Take(Int4()))); break;                    // BINUNICODE
                case '\x8c': Push(Encoding.UTF8.GetString(Take(Byte()))); break;                 // SHORT_BINUNICODE
                case '\x8d': Push(Encoding.UTF8.GetString(Take(UInt(8)))); break;                // BINUNICODE8
                case 'V': Push(Line()); break;                                                    // UNICODE (raw-unicode-escaped; escapes stay as written)
                case 'T': Push(Encoding.Latin1.GetString(Take(Int4()))); break;                  // BINSTRING
                case 'U': Push(Encoding.Latin1.GetString(Take(Byte()))); break;                  // SHORT_BINSTRING
                case 'S': Line(); Push(null); break;                                             // STRING (quoted, escaped)
                // The memo: PUT keeps the top of the stack, GET pushes it again.
                case 'p': memo[long.Parse(Line())] = recent.LastOrDefault(); break;              // PUT
                case 'q': memo[Byte()] = recent.LastOrDefault(); break;                          // BINPUT
                case 'r': memo[UInt(4)] = recent.LastOrDefault(); break;                         // LONG_BINPUT
                case '\x94': memo[memo.Count] = recent.LastOrDefault(); break;                   // MEMOIZE
                case 'g': Push(memo.GetValueOrDefault(long.Parse(Line()))); break;               // GET
                case 'h': Push(memo.GetValueOrDefault(Byte())); break;                           // BINGET
                case 'j': Push(memo.GetValueOrDefault(UInt(4))); break;                          // LONG_BINGET
                case '\x95': UInt(8); break;                                                     // FRAME (a length hint)
                // Everything else: its argument is skipped and what it leaves on the stack is not a string.
                default:
                    SkipArgument((char)opcode, at);
                    Push(null);
                    break;
            }
        }

        void SkipArgument(char opcode, int at)
        {
            switch (opcode)
            {
                case '(' or '0' or '1' or '2' or 'N' or 'Q' or 'R' or 'a' or 'b' or 'd' or '}' or 'e' or 'l' or ']' or 'o' or 's' or 't' or ')' or 'u'
                    or '\x81' or '\x85' or '\x86' or '\x87' or '\x88' or '\x89' or '\x8f' or '\x90' or '\x91' or '\x92' or '\x98':
                    break; // no argument
                case 'F' or 'I' or 'L' or 'P': Line(); break;        // FLOAT, INT, LONG, PERSID
                case 'J': Take(4); break;                            // BININT
                case 'K': Take(1); break;                            // BININT1
                case 'M': Take(2); break;                            // BININT2
                case 'G': Take(8); break;                            // BINFLOAT
                case '\x80': Take(1); break;                         // PROTO
                case '\x8a': Take(Byte()); break;                    // LONG1
                case '\x8b': Take(Int4()); break;                    // LONG4
                case 'B': Take(Int4()); break;                       // BINBYTES
                case 'C': Take(Byte()); break;                       // SHORT_BINBYTES
                case '\x8e' or '\x96': Take(UInt(8)); break;         // BINBYTES8, BYTEARRAY8
                default: throw new InvalidDataException($"{source}: byte 0x{(int)opcode:x2} at offset {at} is not a pickle opcode");
            }
        }
    }
}
