// Namespaces most files of this project import (written by global-usings.py); ImplicitUsings adds System,
// System.Collections.Generic, System.IO, System.Linq, System.Net.Http and System.Threading(.Tasks).
global using Loom.Autograd;
global using Loom.Memory;
global using Loom.Nn;
global using Loom.Random;
