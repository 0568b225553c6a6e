// Namespaces most files of this project import (written by global-usings.py); ImplicitUsings adds System,
// System.Collections.Generic, System.IO, System.Linq, System.Net.Http and System.Threading(.Tasks).
global using System.Diagnostics;
global using System.Runtime.InteropServices;
global using Loom.Nn;
