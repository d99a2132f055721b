package server

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// openPprof serves Go's profiles on Config.PprofAddr (loopback, checked by
// Validate), apart from the API and its keys: the heap and goroutines of a
// cloud holding a fleet are what sizing and stalls are diagnosed with.
func (m *Main) openPprof() error {
	if m.Config.PprofAddr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", m.Config.PprofAddr)
	if err != nil {
		return withFlag(fmt.Errorf("pprof: listen on %s: %w", m.Config.PprofAddr, err), "--pprof")
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	m.pprof = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := m.pprof.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.log.Error("pprof", "err", err)
		}
	}()
	m.log.Info("pprof listening", "addr", ln.Addr().String())
	return nil
}
