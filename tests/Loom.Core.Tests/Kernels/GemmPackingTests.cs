namespace Loom.Tests.Kernels;

/// <summary>
/// The packing routines against their definition, element by element: the transposing pack (row-major A, transposed
/// B) runs 8×8 AVX blocks, then 4×4 SSE blocks, then single elements, so every split of the rows and of the depth
/// between the three is covered, and the padding columns past the width must read zero.
/// </summary>
public class GemmPackingTests
{
    [Fact]
    public unsafe void Transposed_B_panels_hold_every_value_at_its_place_and_zero_padding()
    {
        const int nr = 32, ld = 45;
        var random = new System.Random(5);
        var source = new float[40 * ld];
        for (int i = 0; i < source.Length; i++) source[i] = (float)(random.NextDouble() * 2 - 1);
        foreach (int width in new[] { 1, 3, 4, 7, 8, 12, 13, 16, 20, 31, 32, 40 })
            foreach (int kc in new[] { 1, 3, 4, 7, 8, 9, 15, 16, 17, 43 })
            {
                int panels = (width + nr - 1) / nr;
                var packed = new float[panels * nr * kc];
                Array.Fill(packed, float.NaN);
                fixed (float* b = source)
                fixed (float* dst = packed)
                    GemmPacking.PackB(true, b, ld, kc, width, nr, dst);
                AssertPanels(packed, nr, kc, width, (column, p) => source[column * ld + p], $"width {width} kc {kc}");
            }
    }

    [Fact]
    public unsafe void Row_major_A_panels_of_twelve_rows_split_into_eight_and_four()
    {
        const int mr = 12, ld = 50;
        var random = new System.Random(6);
        var source = new float[30 * ld];
        for (int i = 0; i < source.Length; i++) source[i] = (float)(random.NextDouble() * 2 - 1);
        foreach (int rows in new[] { 1, 4, 5, 8, 11, 12, 13, 24, 28, 30 })
            foreach (int kc in new[] { 1, 7, 8, 12, 19, 48 })
            {
                int panels = (rows + mr - 1) / mr;
                var packed = new float[panels * mr * kc];
                Array.Fill(packed, float.NaN);
                fixed (float* a = source)
                fixed (float* dst = packed)
                    GemmPacking.PackA(false, a, ld, rows, kc, mr, dst, 0, panels);
                AssertPanels(packed, mr, kc, rows, (row, p) => source[row * ld + p], $"rows {rows} kc {kc}");
            }
    }

    [Theory]
    [InlineData(16)]
    [InlineData(32)]
    public unsafe void As_stored_B_panels_filled_row_by_row_hold_every_value_at_its_place(int nr)
    {
        // Two or more whole panels are filled source row by source row, a last partial one panel by panel.
        const int ld = 110;
        var random = new System.Random(7);
        var source = new float[50 * ld];
        for (int i = 0; i < source.Length; i++) source[i] = (float)(random.NextDouble() * 2 - 1);
        foreach (int width in new[] { 1, nr - 1, nr, nr + 1, 2 * nr, 2 * nr + 5, 3 * nr - 1, 3 * nr })
            foreach (int kc in new[] { 1, 7, 8, 9, 17, 50 })
            {
                int panels = (width + nr - 1) / nr;
                var packed = new float[panels * nr * kc];
                Array.Fill(packed, float.NaN);
                fixed (float* b = source)
                fixed (float* dst = packed)
                    GemmPacking.PackB(false, b, ld, kc, width, nr, dst);
                AssertPanels(packed, nr, kc, width, (column, p) => source[p * ld + column], $"nr {nr} width {width} kc {kc}");
            }
    }

    [Fact]
    public unsafe void Transposed_A_panels_in_groups_of_sixteen_and_alone_hold_every_value_at_its_place()
    {
        // 16 whole panels go through the group copy (prefetching rows ahead), the rest panel by panel.
        const int mr = 12, ld = 230;
        var random = new System.Random(8);
        var source = new float[30 * ld];
        for (int i = 0; i < source.Length; i++) source[i] = (float)(random.NextDouble() * 2 - 1);
        foreach (int rows in new[] { 5, 12, 16 * mr, 16 * mr + 7, 17 * mr + 12 })
            foreach (int kc in new[] { 1, 8, 9, 30 })
            {
                int panels = (rows + mr - 1) / mr;
                var packed = new float[panels * mr * kc];
                Array.Fill(packed, float.NaN);
                fixed (float* a = source)
                fixed (float* dst = packed)
                    GemmPacking.PackA(true, a, ld, rows, kc, mr, dst, 0, panels);
                AssertPanels(packed, mr, kc, rows, (row, p) => source[p * ld + row], $"rows {rows} kc {kc}");
            }
    }

    /// <summary>
    /// Panels of <paramref name="width"/> values per step: panel q, step p, slot j holds source(q·width + j, p) for the
    /// first <paramref name="count"/> rows or columns and zero past them.
    /// </summary>
    private static void AssertPanels(float[] packed, int width, int kc, int count, Func<int, int, float> source, string what)
    {
        int panels = (count + width - 1) / width;
        for (int q = 0; q < panels; q++)
            for (int p = 0; p < kc; p++)
                for (int j = 0; j < width; j++)
                {
                    int index = q * width + j;
                    float expected = index < count ? source(index, p) : 0f;
                    Assert.True(expected.Equals(packed[(q * kc + p) * width + j]), $"{what}: panel {q} step {p} slot {j}");
                }
    }
}
