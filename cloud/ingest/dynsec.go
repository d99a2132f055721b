package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/sync/wire"
)

// Topics of Mosquitto's dynamic security plugin.
const (
	dynsecTopic    = "$CONTROL/dynamic-security/v1"
	dynsecResponse = dynsecTopic + "/response"
)

type dynsecCommand struct {
	Command         string      `json:"command"`
	Username        string      `json:"username,omitempty"`
	Password        string      `json:"password,omitempty"`
	ClientID        string      `json:"clientid,omitempty"`
	Rolename        string      `json:"rolename,omitempty"`
	Roles           []dynsecRef `json:"roles,omitempty"`
	ACLs            []DynsecACL `json:"acls,omitempty"`
	CorrelationData string      `json:"correlationData,omitempty"`
}

type dynsecRef struct {
	Rolename string `json:"rolename"`
}

// DynsecACL is an ACL of a dynamic-security role, as the plugin's
// commands and its configuration file spell it.
type DynsecACL struct {
	ACLType string `json:"acltype"`
	Topic   string `json:"topic"`
	Allow   bool   `json:"allow"`
}

type dynsecResponses struct {
	Responses []struct {
		Command         string `json:"command"`
		Error           string `json:"error"`
		CorrelationData string `json:"correlationData"`
	} `json:"responses"`
}

// dynsecMu serialises the dynamic security exchanges of this process.
var dynsecMu sync.Mutex

// TerminalRole is the dynamic-security role of a terminal: it may publish
// only its own events and status, and subscribe only to its own acks and
// commands and to the trust list (DESIGN.md, "Security").
func TerminalRole(tid string) string { return "comptoir-terminal-" + tid }

// TerminalACLs are the ACLs of terminal tid's role (TerminalRole).
func TerminalACLs(tid string) []DynsecACL {
	topic := func(kind string) string { return wire.TerminalTopic(tid, kind) }
	return []DynsecACL{
		{"publishClientSend", topic(wire.KindEvents), true},
		{"publishClientSend", topic(wire.KindStatus), true},
		{"subscribePattern", topic(wire.KindAcks), true},
		{"subscribePattern", topic(wire.KindCommands), true},
		{"subscribePattern", wire.TrustTopic, true},
	}
}

var _ cloud.BrokerAccounts = (*Ingest)(nil)

// RegisterTerminal gives terminal tid an account on an external Mosquitto
// through its dynamic security plugin: a client named tid with password
// (client id pinned to tid) and a role of its own with the terminal's
// topics. Any account of that name is replaced. The cloud's broker user
// needs the plugin's admin rights. The password travels to the broker only,
// which keeps its own hash of it.
func (i *Ingest) RegisterTerminal(ctx context.Context, tid, password string) error {
	if !wire.ValidTerminalID(tid) {
		return fmt.Errorf("ingest: register terminal: invalid id %q", tid)
	}
	role := TerminalRole(tid)
	cmds := []dynsecCommand{
		// Deleting what does not exist fails alone; the rest goes on.
		{Command: "deleteClient", Username: tid},
		{Command: "deleteRole", Rolename: role},
		{Command: "createRole", Rolename: role, ACLs: TerminalACLs(tid)},
		{Command: "createClient", Username: tid, Password: password, ClientID: tid, Roles: []dynsecRef{{role}}},
	}
	if err := i.dynsec(ctx, cmds, 2, nil); err != nil {
		return fmt.Errorf("ingest: register terminal %s: %w", tid, err)
	}
	return nil
}

// CloseTerminal deletes terminal tid's account and role on an external
// Mosquitto through its dynamic security plugin, which disconnects the
// terminal if it is connected. An account that does not exist is no error.
func (i *Ingest) CloseTerminal(ctx context.Context, tid string) error {
	if !wire.ValidTerminalID(tid) {
		return fmt.Errorf("ingest: close terminal: invalid id %q", tid)
	}
	cmds := []dynsecCommand{
		{Command: "deleteClient", Username: tid},
		{Command: "deleteRole", Rolename: TerminalRole(tid)},
	}
	notFound := func(msg string) bool { return strings.Contains(strings.ToLower(msg), "not found") }
	if err := i.dynsec(ctx, cmds, 0, notFound); err != nil {
		return fmt.Errorf("ingest: close terminal %s: %w", tid, err)
	}
	return nil
}

// dynsec sends cmds to the dynamic security plugin and waits for the
// answers of cmds[checkFrom:], returning their errors but those that
// ignore accepts; the answers of the commands before checkFrom are not
// awaited (deletions that fail when there is nothing to delete).
func (i *Ingest) dynsec(ctx context.Context, cmds []dynsecCommand, checkFrom int, ignore func(msg string) bool) error {
	dynsecMu.Lock()
	defer dynsecMu.Unlock()
	resp := make(chan []byte, 4)
	tok := i.client.Subscribe(dynsecResponse, 1, func(_ paho.Client, m paho.Message) {
		select {
		case resp <- m.Payload():
		default:
		}
	})
	if err := waitToken(ctx, tok); err != nil {
		return fmt.Errorf("subscribe to the dynamic security responses: %w", err)
	}
	for _, code := range tok.(*paho.SubscribeToken).Result() {
		if code >= 0x80 {
			return fmt.Errorf("the broker refused the subscription to %s (code %#x): the cloud's user needs the dynamic security admin role", dynsecResponse, code)
		}
	}
	defer i.client.Unsubscribe(dynsecResponse)

	corr := cloud.RandomSecret(9)
	pending := map[string]bool{}
	for n := checkFrom; n < len(cmds); n++ {
		cmds[n].CorrelationData = fmt.Sprintf("%s-%d", corr, n)
		pending[cmds[n].CorrelationData] = true
	}
	payload, _ := json.Marshal(struct {
		Commands []dynsecCommand `json:"commands"`
	}{cmds})
	if err := waitToken(ctx, i.client.Publish(dynsecTopic, 1, false, payload)); err != nil {
		return err
	}
	for {
		select {
		case b := <-resp:
			var r dynsecResponses
			if err := json.Unmarshal(b, &r); err != nil {
				continue
			}
			var errs []string
			for _, x := range r.Responses {
				if !pending[x.CorrelationData] {
					continue
				}
				delete(pending, x.CorrelationData)
				if x.Error != "" && (ignore == nil || !ignore(x.Error)) {
					errs = append(errs, x.Command+": "+x.Error)
				}
			}
			if len(errs) > 0 {
				return fmt.Errorf("on the broker: %s", strings.Join(errs, "; "))
			}
			if len(pending) == 0 {
				return nil
			}
		case <-ctx.Done():
			return fmt.Errorf("no answer from the broker's dynamic security plugin (is it loaded, and is the cloud's user its admin?): %w", ctx.Err())
		}
	}
}

func waitToken(ctx context.Context, tok paho.Token) error {
	select {
	case <-tok.Done():
		return tok.Error()
	case <-ctx.Done():
		return errors.New("timed out")
	}
}
