package csvcell

import "testing"

func TestValuesAFormulaCouldStartWithAreDefusedAndRestored(t *testing.T) {
	for in, want := range map[string]string{
		"=1+1": "'=1+1", "+1": "'+1", "-1": "'-1", "@SUM(A1)": "'@SUM(A1)",
		"\t=1": "'\t=1", "\r=1": "'\r=1",
		"v_abc": "v_abc", "": "", "'": "'", "a=1": "a=1", "'abc": "'abc",
	} {
		got := Defuse(in)
		if got != want {
			t.Errorf("Defuse(%q) = %q, want %q", in, got, want)
		}
		if back := Restore(got); back != in {
			t.Errorf("Restore(%q) = %q, want %q back", got, back, in)
		}
	}
}
