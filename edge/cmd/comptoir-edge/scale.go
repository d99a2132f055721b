package main

import (
	"context"
	"errors"

	"github.com/comptoir/comptoir/edge"
	"github.com/comptoir/comptoir/edge/scale"
	"github.com/comptoir/comptoir/ui"
)

// openScale returns the weigher of the configured scale and the loop that
// reads it, or nil and nil when the terminal has no scale (weights are
// typed).
func (m *Main) openScale() (ui.Weigher, func(context.Context), error) {
	if !m.Config.Scale.Enabled() {
		return nil, nil, nil
	}
	feed := &edge.ScaleFeed{}
	r, err := scale.New(m.Config.Scale, feed, m.Logger)
	if err != nil {
		return nil, nil, err
	}
	run := func(ctx context.Context) {
		if err := r.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			m.Logger.Error("scale stopped", "component", "scale", "error", err)
		}
	}
	return &edge.Weigher{Feed: feed}, run, nil
}
