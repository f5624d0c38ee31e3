// Package layout holds no code: its tests keep the package map of
// docs/architecture.md true. Imports run in one direction (binaries, the
// composition root, the transport, the operators' views, the domain, the
// leaves), the product binary links none of the tooling, and the README's
// layout table names every package there is.
package layout
