using System.Reflection;
using System.Runtime.CompilerServices;

namespace Loom.Cli.Tests;

/// <summary>
/// The layers talk to each other through public API only: no production assembly may open its internals to another
/// one (InternalsVisibleTo), or a higher layer could quietly depend on a lower one's implementation details. Test
/// assemblies (Loom.*.Tests) and the shared Loom.Testing helpers may see internals. This project references the
/// `loom` command, which references every production assembly, so all of them are reachable from here.
/// </summary>
public class LayeringTests
{
    /// <summary>Every Loom assembly the `loom` command loads, found by walking assembly references from it.</summary>
    private static List<Assembly> ProductionAssemblies()
    {
        var found = new Dictionary<string, Assembly>(StringComparer.Ordinal);
        var pending = new Queue<Assembly>([typeof(LoomCommand).Assembly]);
        while (pending.TryDequeue(out var assembly))
        {
            if (!found.TryAdd(assembly.GetName().Name!, assembly)) continue;
            foreach (var reference in assembly.GetReferencedAssemblies())
                if (reference.Name!.StartsWith("Loom.", StringComparison.Ordinal) && !found.ContainsKey(reference.Name))
                    pending.Enqueue(Assembly.Load(reference));
        }
        return [.. found.Values];
    }

    private static bool IsTestAssembly(string name) => name.EndsWith(".Tests", StringComparison.Ordinal) || name == "Loom.Testing";

    [Fact]
    public void The_walk_reaches_every_production_layer()
    {
        var names = ProductionAssemblies().Select(a => a.GetName().Name).ToHashSet();
        Assert.Superset(new HashSet<string?> { "loom", "Loom.Core", "Loom.Nn", "Loom.Data", "Loom.Train", "Loom.Models", "Loom.Bench" }, names);
        Assert.DoesNotContain(names, n => IsTestAssembly(n!));
    }

    [Fact]
    public void No_production_assembly_grants_its_internals_to_another_production_assembly()
    {
        var grants = ProductionAssemblies()
            .SelectMany(a => a.GetCustomAttributes<InternalsVisibleToAttribute>().Select(g => (From: a.GetName().Name, To: g.AssemblyName)))
            .ToList();
        Assert.Contains(grants, g => g.From == "Loom.Core" && g.To == "Loom.Core.Tests"); // the attribute is visible to this check
        var forbidden = grants.Where(g => !IsTestAssembly(g.To)).Select(g => $"{g.From} → {g.To}").ToList();
        Assert.True(forbidden.Count == 0, "InternalsVisibleTo between production assemblies: " + string.Join(", ", forbidden));
    }
}
