// Namespaces most files of this project import (written by global-usings.py); ImplicitUsings adds System,
// System.Collections.Generic, System.IO, System.Linq, System.Net.Http and System.Threading(.Tasks).
global using System.Globalization;
global using System.Text;
global using System.Text.Json.Nodes;
global using System.Text.RegularExpressions;
global using Loom.Data;
global using Loom.Models;
global using Loom.Nn.Serialization;
global using Loom.Testing;
