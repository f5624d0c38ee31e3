// Package csvcell keeps a value Foyer writes into a CSV download from being
// run as a formula when a spreadsheet opens it (CSV injection). Every CSV
// download of values that came from outside (customer ids, the shop's order
// references) writes its cells through Defuse.
package csvcell

// triggers are the first characters that make a spreadsheet read a cell as
// a formula: =, + , - and @, and a tab or carriage return before one.
const triggers = "=+-@\t\r"

// Defuse puts a ' before a value that starts with a formula's first
// character, so that a spreadsheet shows it as text. Other values, numbers
// Foyer writes among them (never negative), are kept as they are.
func Defuse(v string) string {
	if startsFormula(v) {
		return "'" + v
	}
	return v
}

// Restore undoes Defuse, for a download read back in (an invitee list sent
// again as it was downloaded): a ' before a formula's first character goes.
func Restore(v string) string {
	if len(v) > 1 && v[0] == '\'' && startsFormula(v[1:]) {
		return v[1:]
	}
	return v
}

func startsFormula(v string) bool {
	for i := 0; v != "" && i < len(triggers); i++ {
		if v[0] == triggers[i] {
			return true
		}
	}
	return false
}
