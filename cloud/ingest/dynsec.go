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
	ACLs            []dynsecACL `json:"acls,omitempty"`
	CorrelationData string      `json:"correlationData,omitempty"`
}

type dynsecRef struct {
	Rolename string `json:"rolename"`
}

type dynsecACL struct {
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

// dynsec serialises the commands of RegisterTerminal.
var dynsecMu sync.Mutex

// TerminalRole is the dynamic-security role of a terminal: it may publish
// only its own events and status, and subscribe only to its own acks and
// commands and to the trust list (DESIGN.md, "Security").
func TerminalRole(tid string) string { return "comptoir-terminal-" + tid }

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
		return fmt.Errorf("ingest: register terminal: subscribe to the dynamic security responses: %w", err)
	}
	for _, code := range tok.(*paho.SubscribeToken).Result() {
		if code >= 0x80 {
			return fmt.Errorf("ingest: register terminal: the broker refused the subscription to %s (code %#x): the cloud's user needs the dynamic security admin role", dynsecResponse, code)
		}
	}
	defer i.client.Unsubscribe(dynsecResponse)

	role := TerminalRole(tid)
	corr := cloud.RandomSecret(9)
	topic := func(kind string) string { return wire.TerminalTopic(tid, kind) }
	cmds := struct {
		Commands []dynsecCommand `json:"commands"`
	}{[]dynsecCommand{
		// Deleting what does not exist fails alone; the rest goes on.
		{Command: "deleteClient", Username: tid},
		{Command: "deleteRole", Rolename: role},
		{Command: "createRole", Rolename: role, ACLs: []dynsecACL{
			{"publishClientSend", topic(wire.KindEvents), true},
			{"publishClientSend", topic(wire.KindStatus), true},
			{"subscribePattern", topic(wire.KindAcks), true},
			{"subscribePattern", topic(wire.KindCommands), true},
			{"subscribePattern", wire.TrustTopic, true},
		}, CorrelationData: corr + "-role"},
		{Command: "createClient", Username: tid, Password: password, ClientID: tid,
			Roles: []dynsecRef{{role}}, CorrelationData: corr},
	}}
	payload, _ := json.Marshal(cmds)
	if err := waitToken(ctx, i.client.Publish(dynsecTopic, 1, false, payload)); err != nil {
		return fmt.Errorf("ingest: register terminal: %w", err)
	}
	for {
		select {
		case b := <-resp:
			var r dynsecResponses
			if err := json.Unmarshal(b, &r); err != nil {
				continue
			}
			var errs []string
			done := false
			for _, x := range r.Responses {
				if !strings.HasPrefix(x.CorrelationData, corr) {
					continue
				}
				done = done || x.CorrelationData == corr
				if x.Error != "" {
					errs = append(errs, x.Command+": "+x.Error)
				}
			}
			if len(errs) > 0 {
				return fmt.Errorf("ingest: register terminal %s on the broker: %s", tid, strings.Join(errs, "; "))
			}
			if done {
				return nil
			}
		case <-ctx.Done():
			return fmt.Errorf("ingest: register terminal %s: no answer from the broker's dynamic security plugin (is it loaded, and is the cloud's user its admin?): %w", tid, ctx.Err())
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
