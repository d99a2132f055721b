package uplink

// HasTrust reports whether the uplink holds a trust list from the broker,
// for the tests of the uplink_test package.
func (u *Uplink) HasTrust() bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.trust != nil
}
