/**
 * Containers, clusters and clouds (docker, kubectl, terraform, aws...): reading remote state uses the
 * network, changing it is system-wide, deleting it is destructive, and a container given the host
 * (--privileged, / mounted, the docker socket) is privilege escalation.
 */
import { VERSION_FLAGS } from '../shell/args';
import type { ProgramFamily } from '../shell/rule';
import { ex, RO } from './example';

const INFRA_DESTROY = new Set(['delete', 'destroy', 'rm', 'remove', 'terminate-instances', 'delete-bucket', 'rb', 'uninstall', 'drain', 'taint', 'purge']);
const INFRA_CHANGE = new Set([
  'apply',
  'create',
  'update',
  'put',
  'set',
  'deploy',
  'run',
  'exec',
  'patch',
  'replace',
  'up',
  'install',
  'upgrade',
  'import',
  'cp',
  'mv',
  'sync',
  'start',
  'stop',
  'scale',
  'provision',
  'ssh',
  'edit',
  'rollout',
  'label',
  'annotate',
  'cordon',
]);
const INFRA_READ = new Set([
  'get',
  'describe',
  'list',
  'ls',
  'show',
  'version',
  'plan',
  'logs',
  'top',
  'status',
  'describe-instances',
  'output',
  'validate',
  'fmt',
  'config',
  'whoami',
  'api-resources',
  'explain',
  'cluster-info',
]);

export const infrastructure: ProgramFamily = {
  name: 'infrastructure',
  rules: [
    {
      programs: [
        'docker',
        'podman',
        'nerdctl',
        'docker-compose',
        'kubectl',
        'helm',
        'terraform',
        'tofu',
        'pulumi',
        'aws',
        'gcloud',
        'gsutil',
        'az',
        'doctl',
        'flyctl',
        'vercel',
        'netlify',
        'heroku',
        'firebase',
        'ansible',
        'ansible-playbook',
        'vagrant',
        'minikube',
        'kind',
        'colima',
      ],
      judge(argv, j) {
        const name = argv[0]!.value!;
        const words = argv.slice(1).map((a) => a.value);
        const verbs = words.filter((v): v is string => v !== null && !v.startsWith('-'));
        if (words.length === 1 && VERSION_FLAGS.has(words[0] ?? '')) return j.risk('read-only', `${name} ${words[0]} prints its version`);
        if (['docker', 'podman', 'nerdctl', 'docker-compose'].includes(name)) {
          const hostControl = words.some((v) =>
            v === null
              ? false
              : v === '--privileged' || /^--(pid|net|network|ipc|userns)=host$/.test(v) || /^(-v=?|--volume=?|--mount=?.*source=)?\/(:|,|$)/.test(v) || v.includes('docker.sock'),
          );
          if (hostControl) return j.risk('privilege-escalation', `${name} --privileged / mounting / gives the container control of the host`);
          if (verbs.some((v) => ['rm', 'rmi', 'prune', 'kill', 'stop', 'down'].includes(v)))
            return j.risk('destructive', `${name} ${verbs.join(' ')} removes or stops containers or data (destructive)`);
          const verb = [
            'compose',
            'container',
            'image',
            'volume',
            'network',
            'system',
            'buildx',
            'builder',
            'config',
            'context',
            'plugin',
            'secret',
            'service',
            'stack',
            'swarm',
            'node',
            'trust',
            'manifest',
          ].includes(verbs[0] ?? '')
            ? verbs[1]
            : verbs[0];
          if (['ps', 'images', 'inspect', 'logs', 'version', 'info', 'ls', 'top', 'stats', 'port', 'history', 'config', 'events', 'diff', 'df'].includes(verb ?? ''))
            return j.risk('read-only', `${name} ${verb} only reads`);
          if (['pull', 'push', 'login', 'search'].includes(verb ?? '')) return j.risk('network', `${name} ${verb} talks to a registry`);
          return j.risk('system-wide', `${name} ${verb ?? ''} runs containers through a daemon with host-level power`);
        }
        if (verbs.some((v) => INFRA_DESTROY.has(v))) return j.risk('destructive', `${name} ${verbs.join(' ')} deletes remote resources (destructive)`);
        if (!verbs.some((v) => INFRA_CHANGE.has(v)) && verbs.some((v) => INFRA_READ.has(v) || /^(get|list|describe|show)-/.test(v)))
          return j.risk('network', `${name} ${verbs.join(' ')} reads remote state`);
        j.risk('system-wide', `${name} ${verbs.join(' ')} changes remote infrastructure`);
      },
      examples: [
        ex('docker ps -a', RO),
        ex('docker config create x f', { risk: 'system-wide' }),
        ex('docker image ls', RO),
        ex('docker run --rm -it -v /:/host alpine sh', { risk: 'privilege-escalation' }),
        ex('docker build -t app .', { risk: 'system-wide' }),
        ex('kubectl get pods', { risk: 'network' }),
        ex('kubectl delete ns prod', { risk: 'destructive' }),
        ex('terraform apply -auto-approve', { risk: 'system-wide' }),
      ],
    },
  ],
};
