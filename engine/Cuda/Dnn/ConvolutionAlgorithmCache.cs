namespace ScratchDetect.Engine.Cuda.Dnn;

/// <summary>The three cuDNN convolution passes, each with its own algorithm family.</summary>
public enum ConvolutionPass
{
    /// <summary>cudnnConvolutionForward (cudnnConvolutionFwdAlgo_t)</summary>
    Forward,
    /// <summary>cudnnConvolutionBackwardData (cudnnConvolutionBwdDataAlgo_t)</summary>
    BackwardData,
    /// <summary>cudnnConvolutionBackwardFilter (cudnnConvolutionBwdFilterAlgo_t)</summary>
    BackwardFilter,
}

/// <summary>The algorithm cuDNN measured fastest for one shape and pass, and the workspace it needs.</summary>
public readonly record struct ConvolutionAlgorithm(int Algorithm, long WorkspaceBytes);

/// <summary>
/// Algorithms chosen once per (shape, pass), as PyTorch's cudnn.benchmark: the first convolution
/// of a shape runs cudnnFind*AlgorithmEx (which times every algorithm), later ones reuse its
/// answer. A detector's shapes repeat every step (fixed batch and image sizes), so the search
/// cost is paid in the first step only.
/// </summary>
public sealed class ConvolutionAlgorithmCache
{
    private readonly Dictionary<(ConvolutionPlan, ConvolutionPass), ConvolutionAlgorithm> chosen = [];
    private readonly Lock gate = new();

    /// <summary>How many searches have run (one per distinct shape and pass).</summary>
    public int Searches { get; private set; }

    /// <summary>The cached choice for <paramref name="plan"/> and <paramref name="pass"/>, or the result of <paramref name="search"/>, which then is cached.</summary>
    public ConvolutionAlgorithm GetOrSearch(ConvolutionPlan plan, ConvolutionPass pass, Func<ConvolutionAlgorithm> search)
    {
        lock (gate)
        {
            if (chosen.TryGetValue((plan, pass), out var algorithm)) return algorithm;
            algorithm = search();
            Searches++;
            chosen[(plan, pass)] = algorithm;
            return algorithm;
        }
    }
}
