using System.Globalization;
using ScratchDetect.Engine;

namespace ScratchDetect.Models;

/// <summary>The key names an SSD checkpoint uses.</summary>
public enum SsdWeightFormat
{
    /// <summary>torchvision's: backbone.features.N, backbone.extra.N.M, backbone.scale_weight, head.{classification,regression}_head.module_list.N (what <see cref="Ssd"/> uses).</summary>
    Torchvision,

    /// <summary>ssd.pytorch's: vgg.N (one flat list, pool5/conv6/conv7 at its end), L2Norm.weight, extras.N, loc.N, conf.N.</summary>
    SsdPytorch,
}

/// <summary>
/// Converts SSD state dicts between ssd.pytorch's and torchvision's key names. Both networks hold the
/// same tensors in the same layouts, so only the names change: ssd.pytorch's vgg list is cut where
/// torchvision's module tree is (see <see cref="SsdVggBackbone"/>): vgg.i below the last "M" pool is
/// backbone.features.i, the rest of the base is backbone.extra.0.(i - cut), and pool5, conv6, ReLU,
/// conv7, ReLU are backbone.extra.0.(base - cut).0 .. 4; extras.2j and extras.2j+1 are
/// backbone.extra.(j+1).0 and .2 (.4 and .3 for conv7 and the second convolutions with
/// <see cref="SsdConfig.BatchNormInExtras"/>); loc.k and conf.k are the regression and classification heads'
/// module_list.k. For VGG16 that is vgg.0..22 → features.0..22, vgg.24/26/28 (conv5) →
/// extra.0.1/3/5, vgg.31 (conv6) → extra.0.7.1, vgg.33 (conv7) → extra.0.7.3.
/// </summary>
public static class SsdStateDict
{
    /// <summary>
    /// The format of a checkpoint from its keys: ssd.pytorch's when any starts with "vgg.", torchvision's
    /// when any starts with "backbone."; otherwise an error naming a few keys.
    /// </summary>
    public static SsdWeightFormat DetectFormat(IEnumerable<string> keys)
    {
        var list = keys.ToList();
        if (list.Any(k => k.StartsWith("vgg.", StringComparison.Ordinal))) return SsdWeightFormat.SsdPytorch;
        if (list.Any(k => k.StartsWith("backbone.", StringComparison.Ordinal))) return SsdWeightFormat.Torchvision;
        throw new ArgumentException($"ssd: cannot tell the weights' format: no key starts with 'vgg.' (ssd.pytorch) or 'backbone.' (torchvision); keys: {string.Join(", ", list.Take(5))}{(list.Count > 5 ? ", ..." : "")}");
    }

    /// <summary>
    /// <paramref name="state"/> under torchvision's names for the network <paramref name="config"/>
    /// describes. Keys that are not ssd.pytorch's are kept as they are, so that loading reports them.
    /// </summary>
    public static Dictionary<string, Tensor> FromSsdPytorch(IReadOnlyDictionary<string, Tensor> state, SsdConfig config)
    {
        var map = ModuleNames(config).ToDictionary(p => p.SsdPytorch, p => p.Torchvision);
        return state.ToDictionary(entry => Rename(entry.Key, map), entry => entry.Value);
    }

    /// <summary><paramref name="state"/> (torchvision's names) under ssd.pytorch's names; other keys are kept.</summary>
    public static Dictionary<string, Tensor> ToSsdPytorch(IReadOnlyDictionary<string, Tensor> state, SsdConfig config)
    {
        var map = ModuleNames(config).ToDictionary(p => p.Torchvision, p => p.SsdPytorch);
        return state.ToDictionary(entry => Rename(entry.Key, map), entry => entry.Value);
    }

    /// <summary>A key's longest module prefix found in <paramref name="map"/>, replaced; the key itself when none is.</summary>
    private static string Rename(string key, Dictionary<string, string> map)
    {
        for (int dot = key.LastIndexOf('.'); dot > 0; dot = key.LastIndexOf('.', dot - 1))
            if (map.TryGetValue(key[..dot], out var renamed)) return renamed + key[dot..];
        return map.TryGetValue(key, out var whole) ? whole : key;
    }

    /// <summary>Each module (and the L2Norm parameter) under both names.</summary>
    private static IEnumerable<(string SsdPytorch, string Torchvision)> ModuleNames(SsdConfig config)
    {
        var layout = VggLayout.Parse(config.Base, config.BatchNorm);
        int cut = layout.LastPoolLayer, baseLayers = layout.BaseLayers;
        string Index(int i) => i.ToString(CultureInfo.InvariantCulture);
        for (int i = 0; i < baseLayers; i++)
            yield return ($"vgg.{Index(i)}", i < cut ? $"backbone.features.{Index(i)}" : $"backbone.extra.0.{Index(i - cut)}");
        // ssd.pytorch's pool5, conv6, ReLU, conv7, ReLU follow the base; only the convolutions hold weights.
        // With BatchNormInExtras (which ssd.pytorch has not: those batch norms keep torchvision's names)
        // conv7 is child 4 of extra.0's last module and a block's second convolution is child 3.
        string fc = $"backbone.extra.0.{Index(baseLayers - cut)}";
        int conv7 = config.BatchNormInExtras ? 4 : 3, secondConv = config.BatchNormInExtras ? 3 : 2;
        yield return ($"vgg.{Index(baseLayers + 1)}", $"{fc}.1");
        yield return ($"vgg.{Index(baseLayers + 3)}", $"{fc}.{Index(conv7)}");
        yield return ("L2Norm.weight", "backbone.scale_weight");
        for (int j = 0; j < 2 * config.Extras.Count; j++)
            yield return ($"extras.{Index(j)}", $"backbone.extra.{Index(j / 2 + 1)}.{Index(j % 2 * secondConv)}");
        for (int k = 0; k < config.SourceCount; k++)
        {
            yield return ($"loc.{Index(k)}", $"head.regression_head.module_list.{Index(k)}");
            yield return ($"conf.{Index(k)}", $"head.classification_head.module_list.{Index(k)}");
        }
    }
}
