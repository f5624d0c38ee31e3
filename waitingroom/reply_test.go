package waitingroom

import "testing"

// TestAScriptReplyOfAnotherShapeIsAnErrorNotAPanic: join's and find's
// replies are read with checked assertions, so a reply of a shape the code
// does not expect (a script changed on one side only, a value of another
// type) fails the request instead of panicking the gateway that holds
// every socket.
func TestAScriptReplyOfAnotherShapeIsAnErrorNotAPanic(t *testing.T) {
	for _, reply := range [][]any{
		{"waiting", "12", int64(3), "t_x"},
		{"waiting", int64(12), nil, "t_x"},
		{"admitted", int64(7), int64(0), "t_x"},
		{"prequeue", "7", int64(0), "t_x"},
		{"waiting"},
		{},
	} {
		if _, err := placeOf("s_x", reply, nil); err == nil {
			t.Errorf("join's reply %v was read as a place", reply)
		}
		if len(reply) == 0 {
			continue // find's "no place"
		}
		if _, ok := placeIn(reply); ok {
			t.Errorf("find's reply %v was read as a place", reply)
		}
	}
	got, err := placeOf("s_x", []any{"waiting", int64(12), int64(3), "t_x"}, nil)
	if err != nil || got != (Place{Ticket: 12, Position: 3, Txn: "t_x"}) {
		t.Errorf("a good reply read as %+v, %v", got, err)
	}
}
