package uplink

import (
	"context"
	"time"

	"github.com/comptoir/comptoir/sync/wire"
)

// maxQueuedCommands bounds the commands waiting for the callback; past it,
// new ones are dropped (and logged) rather than holding memory unbounded.
const maxQueuedCommands = 1024

// recentIDs remembers the last len(ids) command ids, to drop a command that
// QoS 1 delivers again (after a reconnection, a PUBACK lost on the way).
// Callers still apply commands idempotently: this only spares them work.
type recentIDs struct {
	ids  [256]string
	next int
	set  map[string]bool
}

// add records id; it reports false when id was seen lately.
func (r *recentIDs) add(id string) bool {
	if r.set == nil {
		r.set = make(map[string]bool, len(r.ids))
	}
	if r.set[id] {
		return false
	}
	delete(r.set, r.ids[r.next])
	r.ids[r.next] = id
	r.set[id] = true
	r.next = (r.next + 1) % len(r.ids)
	return true
}

// statusLoop publishes the retained status on connect, on PublishStatus and
// every StatusEvery.
func (u *Uplink) statusLoop(ctx context.Context) {
	ticker := time.NewTicker(u.cfg.StatusEvery)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		case <-u.statusWake:
		}
		c := u.client()
		if c == nil {
			continue
		}
		payload := wire.Marshal(u.status(ctx))
		tok := c.Publish(u.topics.status, 1, true, payload)
		if waitToken(ctx, tok, opTimeout) || ctx.Err() != nil {
			continue
		}
		u.log.Warn("publish status", "err", tok.Error())
	}
}

// status builds the status message: the status func's, or the outbox's
// figures when there is none.
func (u *Uplink) status(ctx context.Context) wire.Status {
	u.mu.Lock()
	f := u.statusFunc
	u.mu.Unlock()
	var st wire.Status
	now := time.Now().UTC()
	if f != nil {
		st = f()
	} else {
		pending, oldest, err := u.outbox.OutboxStats(ctx)
		if err != nil {
			u.log.Warn("outbox stats", "err", err)
		}
		st.OutboxPending = pending
		if pending > 0 && !oldest.IsZero() {
			st.OutboxOldestAgeS = max(now.Sub(oldest).Seconds(), 0)
		}
	}
	st.V = wire.Version
	st.Online = true
	if st.At.IsZero() {
		st.At = now
	}
	if st.Version == "" {
		st.Version = u.cfg.Version
	}
	return st
}

// callbackLoop calls the trust and command callbacks on a goroutine of its
// own, so that a slow callback never holds paho's. What arrives before its
// callback is set waits for it (the trust list, and up to maxQueuedCommands
// commands).
func (u *Uplink) callbackLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-u.cbWake:
		}
		for ctx.Err() == nil {
			u.mu.Lock()
			onTrust, onCommand := u.onTrust, u.onCommand
			var trust []byte
			var cmds []wire.Command
			if onTrust != nil {
				trust, u.trust = u.trust, nil
			}
			if onCommand != nil {
				cmds, u.commands = u.commands, nil
			}
			u.mu.Unlock()
			if trust == nil && len(cmds) == 0 {
				break
			}
			if trust != nil {
				onTrust(trust)
			}
			for _, c := range cmds {
				if ctx.Err() != nil {
					return
				}
				onCommand(c)
			}
		}
	}
}
