package edge_test

import (
	"context"
	"strings"
	"testing"

	"github.com/comptoir/comptoir/edge"
)

// plainHasher stands in for bcrypt (tested in ui), so that these tests are
// about the accounts, not the hash's cost.
var plainHasher = edge.PINHasher{
	Hash:  func(pin string) (string, error) { return "plain:" + pin, nil },
	Check: func(hash, pin string) bool { return strings.TrimPrefix(hash, "plain:") == pin },
}

func TestStaffAccounts(t *testing.T) {
	ctx := context.Background()
	type op struct {
		add     bool // add name/role/pin, else disable id (a name, or "#n" for the n-th account's id)
		name    string
		role    string
		pin     string
		want    string
		wantOff bool
	}
	tests := []struct {
		name string
		ops  []op
	}{
		{"add a manager and a clerk", []op{
			{add: true, name: "Ana", role: edge.RoleManager, pin: "111111"},
			{add: true, name: "Bob", role: edge.RoleClerk, pin: "2222"},
		}},
		{"PIN of an enabled account", []op{
			{add: true, name: "Ana", role: edge.RoleManager, pin: "111111"},
			{add: true, name: "Bob", role: edge.RoleClerk, pin: "111111", want: edge.ECONFLICT},
			{add: true, name: "Cid", role: edge.RoleManager, pin: "1212", want: edge.EINVALID},
		}},
		{"PIN of a disabled account is free again", []op{
			{add: true, name: "Ana", role: edge.RoleManager, pin: "111111"},
			{add: true, name: "Bob", role: edge.RoleClerk, pin: "2222"},
			{name: "Bob", wantOff: true},
			{add: true, name: "Cid", role: edge.RoleClerk, pin: "2222"},
		}},
		{"bad input", []op{
			{add: true, name: " ", role: edge.RoleClerk, pin: "1111", want: edge.EINVALID},
			{add: true, name: "Ana", role: "owner", pin: "1111", want: edge.EINVALID},
			{add: true, name: "Ana", role: edge.RoleClerk, pin: "11", want: edge.EINVALID},
			{add: true, name: "Ana", role: edge.RoleClerk, pin: "11a1", want: edge.EINVALID},
		}},
		{"disable by id", []op{
			{add: true, name: "Ana", role: edge.RoleManager, pin: "111111"},
			{add: true, name: "Bob", role: edge.RoleClerk, pin: "2222"},
			{name: "#1", wantOff: true},
		}},
		{"the last manager stays", []op{
			{add: true, name: "Ana", role: edge.RoleManager, pin: "111111"},
			{name: "Ana", want: edge.ECONFLICT},
			{add: true, name: "Eve", role: edge.RoleManager, pin: "333333"},
			{name: "Ana", wantOff: true},
		}},
		{"unknown and ambiguous", []op{
			{add: true, name: "Ana", role: edge.RoleManager, pin: "111111"},
			{add: true, name: "Bob", role: edge.RoleClerk, pin: "2222"},
			{add: true, name: "Bob", role: edge.RoleClerk, pin: "4444"},
			{name: "Zoe", want: edge.ENOTFOUND},
			{name: "Bob", want: edge.ECONFLICT},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCounter(t, nil)
			var ids []string
			for i, o := range tt.ops {
				var st edge.Staff
				var err error
				if o.add {
					st, err = edge.AddStaff(ctx, c.j, plainHasher, o.name, o.role, o.pin)
					if err == nil {
						ids = append(ids, st.ID)
					}
				} else {
					id := o.name
					if id == "#1" {
						id = ids[1]
					}
					st, err = edge.DisableStaff(ctx, c.j, id)
				}
				if edge.ErrorCode(err) != o.want {
					t.Fatalf("step %d: %v, want %q", i, err, o.want)
				}
				if err == nil && st.Disabled != o.wantOff {
					t.Fatalf("step %d: disabled=%v", i, st.Disabled)
				}
			}
			all, _ := c.j.ListStaff(ctx)
			if len(all) != len(ids) {
				t.Errorf("%d accounts stored, want %d", len(all), len(ids))
			}
			for _, s := range all {
				if s.PINHash == "" || strings.Contains(s.PINHash, s.Name) {
					t.Errorf("account %+v", s)
				}
			}
		})
	}
}
