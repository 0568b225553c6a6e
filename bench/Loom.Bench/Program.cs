Console.WriteLine("loom bench: kernels pending");
