namespace ScratchDetect.Engine.Backends;

/// <summary>Element-wise functions of one tensor (see <see cref="IBackend.Unary"/>).</summary>
public enum UnaryOp
{
    /// <summary>-x</summary>
    Neg,
    /// <summary>e^x</summary>
    Exp,
    /// <summary>natural logarithm</summary>
    Log,
    /// <summary>base-2 logarithm</summary>
    Log2,
    /// <summary>square root</summary>
    Sqrt,
    /// <summary>|x|</summary>
    Abs,
    /// <summary>max(x, 0)</summary>
    Relu,
    /// <summary>1 / (1 + e^-x)</summary>
    Sigmoid,
    /// <summary>hyperbolic tangent</summary>
    Tanh,
    /// <summary>-1, 0 or 1</summary>
    Sign,
    /// <summary>largest integer not above x</summary>
    Floor,
    /// <summary>logical not (bool only)</summary>
    Not,
}

/// <summary>Element-wise functions of two broadcast tensors (see <see cref="IBackend.Binary"/>).</summary>
public enum BinaryOp
{
    /// <summary>a + b</summary>
    Add,
    /// <summary>a - b</summary>
    Sub,
    /// <summary>a * b</summary>
    Mul,
    /// <summary>a / b</summary>
    Div,
    /// <summary>a ^ b (floating point)</summary>
    Pow,
    /// <summary>max(a, b), NaN-propagating</summary>
    Maximum,
    /// <summary>min(a, b), NaN-propagating</summary>
    Minimum,
    /// <summary>a and b (bool only)</summary>
    And,
    /// <summary>a or b (bool only)</summary>
    Or,
}

/// <summary>Element-wise comparisons, producing <see cref="DType.Bool"/> (see <see cref="IBackend.Compare"/>).</summary>
public enum CompareOp
{
    /// <summary>a == b</summary>
    Eq,
    /// <summary>a != b</summary>
    Ne,
    /// <summary>a &lt; b</summary>
    Lt,
    /// <summary>a &lt;= b</summary>
    Le,
    /// <summary>a &gt; b</summary>
    Gt,
    /// <summary>a &gt;= b</summary>
    Ge,
}

/// <summary>Reductions along one axis (see <see cref="IBackend.Reduce"/>).</summary>
public enum ReduceOp
{
    /// <summary>sum of the elements</summary>
    Sum,
    /// <summary>largest element (NaN if any is NaN)</summary>
    Max,
    /// <summary>smallest element (NaN if any is NaN)</summary>
    Min,
    /// <summary>index of the first largest element, as int64</summary>
    ArgMax,
    /// <summary>index of the first smallest element, as int64</summary>
    ArgMin,
}
