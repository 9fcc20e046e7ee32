package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// device is a rate-limited test disk: a loop device (direct I/O on its
// backing file) with an ext4 file system mounted at mnt.
type device struct {
	img, loop, mnt string
	majMin         string
}

// figDevices proves that a scrub reads several disks at once:
// BENCH_DEVICES loop devices, each limited to BENCH_DEVICE_RATE_MB MB/s
// of reads by the block cgroup (io.max on cgroup v2, blkio throttle on
// v1), hold one collection of BENCH_DEVICE_MB each; `archivd verify
// --offline` runs in that cgroup on cold data, over one collection and
// over all of them. Aggregate throughput is compared with the sum of the
// limits. Loop devices, mounts and the cgroup are removed at the end.
func figDevices(b *bench) error {
	n := int(envInt("BENCH_DEVICES", 3))
	size := envInt("BENCH_DEVICE_MB", 256) << 20
	rate := envInt("BENCH_DEVICE_RATE_MB", 50) * 1_000_000
	var devs []*device
	defer func() {
		for _, d := range devs {
			d.remove()
		}
	}()
	var cols []collection
	var sets []*dataSet
	for i := 1; i <= n; i++ {
		d, err := b.newDevice(i, size+size/8+(64<<20))
		if d != nil {
			devs = append(devs, d)
		}
		if err != nil {
			return err
		}
		s, err := b.makeSet(d.mnt, fmt.Sprintf("d%d", i), size)
		if err != nil {
			return err
		}
		sets = append(sets, s)
		cols = append(cols, collection{Name: s.name, DataRoot: d.mnt, TorrentDir: s.tdir})
	}
	nd, err := b.newNode("", cols...)
	if err != nil {
		return err
	}
	if err := nd.start("devices-adopt"); err != nil {
		return err
	}
	if _, err := nd.allComplete(n, 30*60e9); err != nil {
		return err
	}
	if err := nd.stop(); err != nil {
		return err
	}
	cg, err := newThrottle(devs, rate)
	if err != nil {
		return err
	}
	defer cg.remove()
	fmt.Printf("FIGURE devices: %d loop devices limited to %d MB/s of reads each, %d MiB on each, verify --offline cold\n", n, rate/1_000_000, size>>20)
	var one, all, limit, limitAll series
	for r := 1; r <= b.c.rounds; r++ {
		for _, all1 := range []bool{false, true} {
			if err := dropCaches(); err != nil {
				return err
			}
			args := []string{"--config", nd.cfg, "verify", "--offline", "--json"}
			bytes := size
			if !all1 {
				args = append(args, "-c", sets[0].name)
			} else {
				bytes = size * int64(n)
			}
			d, err := b.timed(fmt.Sprintf("verify-devices-r%d-all%v", r, all1), "sh",
				append([]string{"-c", `echo $$ > "$0" && exec "$@"`, cg.procs, b.c.bin}, args...)...)
			if err != nil {
				return err
			}
			if all1 {
				all.add(mbps(bytes, d))
				limitAll.add(float64(rate*int64(n)) / 1e6)
			} else {
				one.add(mbps(bytes, d))
				limit.add(float64(rate) / 1e6)
			}
			fmt.Printf("ROUND %d verify --offline of %d device(s): %.2f s = %.0f MB/s\n", r, map[bool]int{false: 1, true: n}[all1], d.Seconds(), mbps(bytes, d))
		}
	}
	result("verify --offline cold, 1 rate-limited device, MB/s", "MB/s", &one, "its limit", &limit)
	result(fmt.Sprintf("verify --offline cold, %d rate-limited devices, MB/s (all)", n), "MB/s", &all, "sum of limits", &limitAll)
	return nil
}

func (b *bench) newDevice(i int, bytes int64) (*device, error) {
	d := &device{img: b.path("dev", fmt.Sprintf("img%d", i)), mnt: b.path("dev", fmt.Sprintf("m%d", i))}
	if err := os.MkdirAll(d.mnt, 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(d.img, nil, 0o644); err != nil {
		return nil, err
	}
	if err := os.Truncate(d.img, bytes); err != nil {
		return nil, err
	}
	if out, err := exec.Command("mkfs.ext4", "-q", "-F", d.img).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("mkfs.ext4: %v: %s", err, out)
	}
	out, err := exec.Command("losetup", "--find", "--show", "--direct-io=on", d.img).Output()
	if err != nil {
		return nil, fmt.Errorf("losetup %s: %w", d.img, err)
	}
	d.loop = strings.TrimSpace(string(out))
	var st unix.Stat_t
	if err := unix.Stat(d.loop, &st); err != nil {
		return d, err
	}
	d.majMin = fmt.Sprintf("%d:%d", unix.Major(st.Rdev), unix.Minor(st.Rdev))
	if out, err := exec.Command("mount", d.loop, d.mnt).CombinedOutput(); err != nil {
		d.mnt = ""
		return d, fmt.Errorf("mount %s: %v: %s", d.loop, err, out)
	}
	return d, nil
}

func (d *device) remove() {
	if d.mnt != "" {
		_ = exec.Command("umount", d.mnt).Run()
	}
	if d.loop != "" {
		_ = exec.Command("losetup", "-d", d.loop).Run()
	}
	_ = os.Remove(d.img)
}

// throttle is a block cgroup limiting reads from each device.
type throttle struct{ dir, procs string }

func newThrottle(devs []*device, bps int64) (*throttle, error) {
	name := fmt.Sprintf("archivd-devbench-%d", os.Getpid())
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		t := &throttle{dir: filepath.Join("/sys/fs/cgroup", name)}
		_ = os.WriteFile("/sys/fs/cgroup/cgroup.subtree_control", []byte("+io"), 0o644)
		if err := os.Mkdir(t.dir, 0o755); err != nil {
			return nil, err
		}
		t.procs = filepath.Join(t.dir, "cgroup.procs")
		for _, d := range devs {
			if err := os.WriteFile(filepath.Join(t.dir, "io.max"), []byte(d.majMin+" rbps="+strconv.FormatInt(bps, 10)), 0o644); err != nil {
				t.remove()
				return nil, fmt.Errorf("io.max %s: %w", d.majMin, err)
			}
		}
		return t, nil
	}
	t := &throttle{dir: filepath.Join("/sys/fs/cgroup/blkio", name)}
	if err := os.Mkdir(t.dir, 0o755); err != nil {
		return nil, fmt.Errorf("no cgroup v2 io controller, and blkio v1: %w", err)
	}
	t.procs = filepath.Join(t.dir, "cgroup.procs")
	for _, d := range devs {
		if err := os.WriteFile(filepath.Join(t.dir, "blkio.throttle.read_bps_device"), []byte(d.majMin+" "+strconv.FormatInt(bps, 10)), 0o644); err != nil {
			t.remove()
			return nil, fmt.Errorf("blkio throttle %s: %w", d.majMin, err)
		}
	}
	return t, nil
}

// remove deletes the cgroup (its processes have exited by then).
func (t *throttle) remove() { _ = os.Remove(t.dir) }
