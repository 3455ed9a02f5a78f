namespace ScratchDetect.Engine.Autograd;

/// <summary>
/// Whether ops record gradients on this thread. <c>using (GradMode.NoGrad()) { ... }</c> turns
/// recording off for inference, as <c>torch.no_grad()</c> does.
/// </summary>
public static class GradMode
{
    [ThreadStatic] private static int disabledDepth;

    /// <summary>True unless inside a <see cref="NoGrad"/> scope on this thread.</summary>
    public static bool IsEnabled => disabledDepth == 0;

    /// <summary>Turns gradient recording off until the returned scope is disposed.</summary>
    public static IDisposable NoGrad()
    {
        disabledDepth++;
        return new Scope();
    }

    private sealed class Scope : IDisposable
    {
        private bool disposed;

        public void Dispose()
        {
            if (disposed) return;
            disposed = true;
            disabledDepth--;
        }
    }
}
