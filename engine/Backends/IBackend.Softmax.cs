namespace ScratchDetect.Engine.Backends;

public partial interface IBackend
{
    // ---- softmax ------------------------------------------------------------------------------

    /// <summary>
    /// Softmax (or, with <paramref name="log"/>, log-softmax) over the middle axis of an
    /// (outer, size, inner) floating-point tensor, computed stably: the largest element of each
    /// slice is subtracted before exponentiating, so no exponent exceeds 0.
    /// </summary>
    Storage Softmax(Storage x, int outer, int size, int inner, bool log);
}
