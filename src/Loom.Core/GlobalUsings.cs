// Namespaces most files of this project import (written by global-usings.py); ImplicitUsings adds System,
// System.Collections.Generic, System.IO, System.Linq, System.Net.Http and System.Threading(.Tasks).
global using System.Buffers;
global using System.Numerics;
global using System.Numerics.Tensors;
global using System.Runtime.CompilerServices;
global using System.Runtime.InteropServices;
global using System.Runtime.Intrinsics;
global using Loom.Autograd;
global using Loom.Kernels;
global using Loom.Threading;
