package cloud_test

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/edge"
)

func TestPublicAddr(t *testing.T) {
	tests := []struct {
		addr string
		want bool
	}{
		{"93.184.216.34", true},
		{"2606:2800:220:1:248:1893:25c8:1946", true},
		{"127.0.0.1", false},
		{"127.8.9.10", false},
		{"::1", false},
		{"10.1.2.3", false},
		{"172.16.0.1", false},
		{"192.168.1.1", false},
		{"169.254.169.254", false}, // cloud metadata
		{"fe80::1", false},
		{"fc00::1", false},
		{"0.0.0.0", false},
		{"0.1.2.3", false},
		{"::", false},
		{"100.64.0.1", false},
		{"::ffff:127.0.0.1", false}, // IPv4-mapped loopback
		{"::ffff:10.0.0.1", false},
		{"64:ff9b::a00:1", false}, // NAT64 of 10.0.0.1
		{"224.0.0.1", false},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			if got := cloud.PublicAddr(netip.MustParseAddr(tt.addr)); got != tt.want {
				t.Errorf("PublicAddr(%s) = %v, want %v", tt.addr, got, tt.want)
			}
		})
	}
}

func TestCheckTarget(t *testing.T) {
	resolve := func(_ context.Context, host string) ([]netip.Addr, error) {
		switch host {
		case "public.example":
			return []netip.Addr{netip.MustParseAddr("93.184.216.34")}, nil
		case "sneaky.example": // one public, one private address
			return []netip.Addr{netip.MustParseAddr("93.184.216.34"), netip.MustParseAddr("10.0.0.5")}, nil
		case "localhost":
			return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
		}
		return nil, errors.New("no such host")
	}
	ws := &cloud.Webhooks{Resolve: resolve}
	open := &cloud.Webhooks{Resolve: resolve, AllowPrivate: true}
	tests := []struct {
		url, want, wantOpen string
	}{
		{"https://public.example/hook", "", ""},
		{"https://93.184.216.34:8443/hook", "", ""},
		{"https://sneaky.example/hook", cloud.EPrivateTarget, ""},
		{"https://localhost/hook", cloud.EPrivateTarget, ""},
		{"http://127.0.0.1:9000/hook", cloud.EPrivateTarget, ""},
		{"https://[::1]/hook", cloud.EPrivateTarget, ""},
		{"https://169.254.169.254/latest", cloud.EPrivateTarget, ""},
		{"https://nowhere.example/hook", edge.EINVALID, ""},
		{"ftp://public.example/hook", edge.EINVALID, edge.EINVALID},
		{"https://user:pw@public.example/hook", edge.EINVALID, edge.EINVALID},
		{"/relative", edge.EINVALID, edge.EINVALID},
		{"https://", edge.EINVALID, edge.EINVALID},
		{"", edge.EINVALID, edge.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			if got := edge.ErrorCode(ws.CheckTarget(context.Background(), tt.url)); got != tt.want {
				t.Errorf("CheckTarget = %q, want %q", got, tt.want)
			}
			if got := edge.ErrorCode(open.CheckTarget(context.Background(), tt.url)); got != tt.wantOpen {
				t.Errorf("with AllowPrivate: %q, want %q", got, tt.wantOpen)
			}
		})
	}
}

func TestSigningSecrets(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	w := cloud.Webhook{Secrets: []cloud.WebhookSecret{{Secret: "new"}, {Secret: "old", Until: now.Add(time.Hour)}}}
	if got := w.SigningSecrets(now); len(got) != 2 || got[0] != "new" || got[1] != "old" {
		t.Errorf("within the overlap: %v", got)
	}
	if got := w.SigningSecrets(now.Add(time.Hour)); len(got) != 1 || got[0] != "new" {
		t.Errorf("after the overlap: %v", got)
	}
	for _, tt := range []struct {
		events []string
		typ    string
		want   bool
	}{
		{[]string{"*"}, cloud.EventReturnDeposited, true},
		{[]string{cloud.EventReturnDeposited}, cloud.EventReturnDeposited, true},
		{[]string{cloud.EventReturnDeposited}, cloud.EventHandedOver, false},
	} {
		if got := (cloud.Webhook{Events: tt.events}).Wants(tt.typ); got != tt.want {
			t.Errorf("%v wants %s = %v", tt.events, tt.typ, got)
		}
	}
}

func TestEventTypes(t *testing.T) {
	for s, want := range map[cloud.Status]string{
		cloud.StatusCreated: "return.created", cloud.StatusDeposited: "return.deposited",
		cloud.StatusCancelled: "return.cancelled", cloud.StatusHandedOver: "parcel.handed_over",
		cloud.StatusReceivedInStore: "instore.received", cloud.StatusRefunded: "parcel.refunded",
		cloud.StatusInTransit: "parcel.in_transit",
	} {
		if got := cloud.EventType(s); got != want || !cloud.ValidEventType(got) {
			t.Errorf("EventType(%s) = %s (valid %v), want %s", s, got, cloud.ValidEventType(got), want)
		}
	}
	if cloud.ValidEventType("parcel.teleported") || cloud.ValidEventType("*") {
		t.Error("unknown types are valid")
	}
}
