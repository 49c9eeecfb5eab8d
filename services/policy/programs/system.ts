/**
 * The machine itself: clock, network settings, disks and mounts, services and power, processes,
 * scheduled jobs and firewalls. Reads are read-only; changes are system-wide; formatting a disk,
 * shutting down or killing every process is denied.
 */
import { has, parseArgs } from '../shell/args';
import type { ProgramFamily } from '../shell/rule';
import { ex, RO } from './example';

export const systemPrograms: ProgramFamily = {
  name: 'system',
  rules: [
    {
      programs: ['date'],
      judge(argv, j) {
        const p = parseArgs(argv.slice(1), ['-d', '--date', '-f', '--file', '-r', '--reference', '-s', '--set', '-I']);
        if (has(p, '-s', '--set') || p.positionals.some((a) => a.value === null || /^\d{4,}/.test(a.value))) return j.risk('system-wide', 'date -s sets the system clock');
        j.risk('read-only', 'date prints the date');
      },
      examples: [ex('date +%s', RO), ex('date -s "2020-01-01"', { risk: 'system-wide' }), ex('date -us "2020-01-01"', { risk: 'system-wide' }), ex('date -Iseconds', RO)],
    },
    {
      programs: ['hostname', 'ip', 'ifconfig', 'route', 'sysctl', 'hostnamectl', 'timedatectl', 'localectl'],
      judge(argv, j) {
        const name = argv[0]!.value!;
        const rest = argv.slice(1).map((a) => a.value);
        const readOnlyCall =
          (name === 'hostname' && rest.every((v) => v !== null && v.startsWith('-'))) ||
          (name === 'ip' &&
            rest.every((v) => v !== null) &&
            !rest.some((v) => ['add', 'del', 'delete', 'set', 'change', 'replace', 'flush', 'append', 'up', 'down', 'exec', 'attach', 'identify', 'monitor'].includes(v!))) ||
          ((name === 'ifconfig' || name === 'route') && rest.length <= 1 && rest.every((v) => v !== null && !v.includes('='))) ||
          (name === 'sysctl' && rest.every((v) => v !== null && !v.includes('=') && v !== '-w' && v !== '-p' && v !== '--load' && v !== '--write')) ||
          (name.endsWith('ctl') && (rest.length === 0 || rest[0] === 'status' || rest[0] === 'show' || rest[0]?.startsWith('list')));
        if (readOnlyCall) return j.risk('read-only', `${name} only prints system settings`);
        j.risk('system-wide', `${name} changes system settings`);
      },
      examples: [
        ex('hostname', RO),
        ex('ip addr show', RO),
        ex('ip netns exec ns id', { risk: 'system-wide' }),
        ex('sysctl -w vm.swappiness=10', { risk: 'system-wide' }),
        ex('hostname evil', { risk: 'system-wide' }),
      ],
    },
    {
      programs: ['mkfs', 'mke2fs', 'mkswap', 'wipefs', 'mkdosfs', 'mkntfs', 'blkdiscard'],
      match: /^mkfs\.[a-z0-9]+$/,
      judge(argv, j) {
        j.deny(`${argv[0]!.value} formats or wipes a disk`);
        j.risk('system-wide', `${argv[0]!.value} formats or wipes a disk`);
      },
      examples: [ex('mkfs.ext4 /dev/sdb1', { deny: true }), ex('mkfs -t xfs /dev/nvme1n1', { deny: true }), ex('wipefs -a /dev/sdc', { deny: true })],
    },
    {
      programs: [
        'fdisk',
        'sfdisk',
        'gdisk',
        'sgdisk',
        'parted',
        'cfdisk',
        'diskutil',
        'mount',
        'umount',
        'swapon',
        'swapoff',
        'losetup',
        'cryptsetup',
        'lvm',
        'lvremove',
        'vgremove',
        'pvremove',
        'zpool',
        'zfs',
      ],
      judge(argv, j) {
        const name = argv[0]!.value!;
        const rest = argv.slice(1).map((a) => a.value);
        if (name === 'diskutil' && rest.some((v) => v !== null && /^(erase|zero|secureErase|partitionDisk|reformat)/i.test(v))) return j.deny(`diskutil ${rest[0]} erases a disk`);
        if (['zpool', 'zfs'].includes(name) && rest[0] === 'destroy') return j.deny(`${name} destroy deletes a pool or dataset`);
        if ((name === 'fdisk' || name === 'sfdisk' || name === 'parted') && (rest.includes('-l') || rest.includes('--list')))
          return j.risk('read-only', `${name} -l lists partitions`);
        if ((name === 'mount' && rest.length === 0) || (name === 'diskutil' && (rest[0] === 'list' || rest[0] === 'info'))) return j.risk('read-only', `${name} lists disks`);
        j.risk('system-wide', `${name} changes disks or mounts`);
      },
      examples: [ex('fdisk -l', RO), ex('mount /dev/sdb1 /mnt', { risk: 'system-wide' }), ex('diskutil eraseDisk APFS x disk2', { deny: true })],
    },
    {
      programs: ['shutdown', 'reboot', 'halt', 'poweroff', 'init', 'telinit', 'systemctl', 'service', 'launchctl', 'kexec', 'rc-service'],
      judge(argv, j) {
        const name = argv[0]!.value!;
        const rest = argv.slice(1).map((a) => a.value);
        if (['shutdown', 'reboot', 'halt', 'poweroff', 'kexec'].includes(name)) return j.deny(`${name} stops or restarts the machine`);
        if ((name === 'init' || name === 'telinit') && rest.some((v) => v === '0' || v === '6' || v === '1' || v === 's'))
          return j.deny(`${name} ${rest.join(' ')} stops or restarts the machine`);
        if (name === 'systemctl') {
          const verb = rest.find((v) => v === null || !v.startsWith('-'));
          if (verb && ['poweroff', 'reboot', 'halt', 'kexec', 'emergency', 'rescue', 'soft-reboot'].includes(verb))
            return j.deny(`systemctl ${verb} stops or restarts the machine`);
          if (verb === undefined || /^(status|show|list-|is-|cat|get-default|help)/.test(verb ?? '')) return j.risk('read-only', `systemctl ${verb ?? ''} only reads`.trim());
        }
        if (name === 'service' && rest.includes('status')) return j.risk('read-only', 'service status only reads');
        if (name === 'launchctl' && /^(list|print|blame|dumpstate)/.test(rest[0] ?? '')) return j.risk('read-only', 'launchctl list only reads');
        j.risk('system-wide', `${name} changes system services`);
      },
      examples: [
        ex('shutdown -h now', { deny: true }),
        ex('reboot', { deny: true }),
        ex('systemctl poweroff', { deny: true }),
        ex('init 0', { deny: true }),
        ex('systemctl status nginx', RO),
        ex('systemctl restart nginx', { risk: 'system-wide', deny: false }),
      ],
    },
    {
      programs: ['kill', 'pkill', 'killall', 'skill', 'xkill'],
      judge(argv, j) {
        const name = argv[0]!.value!;
        const rest = argv.slice(1).map((a) => a.value);
        if (name === 'kill' && rest.some((v) => v === '-l' || v === '-L' || v === '--list')) return j.risk('read-only', 'kill -l lists signals');
        // Targets: everything after the options; a negative number after the first word is a process group (-1: all).
        const targets: string[] = [];
        for (let i = 0; i < rest.length; i++) {
          const v = rest[i] ?? '?';
          if (v === '--') {
            targets.push(...rest.slice(i + 1).map((t) => t ?? '?'));
            break;
          }
          if (v === '-s' || v === '-n' || v === '--signal') i++;
          else if (/^-\d+$/.test(v) && i > 0) targets.push(v);
          else if (!v.startsWith('-')) targets.push(v);
        }
        if (name === 'kill' && targets.some((t) => t === '-1' || t === '1')) return j.deny('kill -1 / kill 1 kills every process (or init)');
        if ((name === 'killall' || name === 'pkill') && targets.some((t) => /^(init|systemd|sshd|launchd|kernel_task|-1)$/.test(t)))
          return j.deny(`${name} would kill a system process`);
        j.risk('destructive', `${name} terminates processes (destructive)`);
      },
      examples: [ex('kill 12345', { risk: 'destructive', deny: false }), ex('kill -9 -1', { deny: true }), ex('kill -l', RO), ex('pkill -f vitest', { risk: 'destructive' })],
    },
    {
      programs: [
        'crontab',
        'iptables',
        'ip6tables',
        'nft',
        'ufw',
        'firewall-cmd',
        'modprobe',
        'insmod',
        'rmmod',
        'chattr',
        'setfacl',
        'chroot',
        'update-alternatives',
        'defaults',
        'csrutil',
        'nvram',
        'tccutil',
        'scutil',
        'pmset',
        'sysadminctl',
        'dscl',
        'grub-install',
        'update-grub',
        'efibootmgr',
        'ldconfig',
        'depmod',
      ],
      judge(argv, j) {
        const name = argv[0]!.value!;
        const rest = argv.slice(1).map((a) => a.value);
        if (name === 'crontab' && rest.length === 1 && rest[0] === '-l') return j.risk('read-only', 'crontab -l lists jobs');
        if ((name === 'iptables' || name === 'ip6tables') && rest.every((v) => v !== null && /^(-L|-S|-n|-v|--list|-t|nat|filter|mangle|raw|--line-numbers)$/.test(v)))
          return j.risk('read-only', `${name} -L lists rules`);
        if (name === 'defaults' && (rest[0] === 'read' || rest[0] === 'domains')) return j.risk('read-only', 'defaults read only reads');
        j.risk('system-wide', `${name} changes system configuration${name === 'crontab' ? ' (scheduled jobs persist after this task)' : ''}`);
      },
      examples: [ex('crontab -l', RO), ex('crontab -r', { risk: 'system-wide' }), ex('iptables -F', { risk: 'system-wide' })],
    },
  ],
};
