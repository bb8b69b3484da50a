import { describe, expect, it } from 'vitest';
import { ipKey } from '../../src/falco/net.js';
import { buildEvent } from '../support/events.js';
import { compileOne } from './support.js';

// Addresses in several spellings, and texts that are no address at all.
const ADDRESSES = [
  '169.254.169.254',
  '169.254.169.0254',
  '::ffff:169.254.169.254',
  '0:0:0:0:0:ffff:a9fe:a9fe',
  '::ffff:a9fe:a9fe',
  'fd00:ec2::254',
  'fd00:ec2:0:0::254',
  'FD00:EC2::254',
  '100.100.100.200',
  '10.0.0.1',
  '3232235777',
  'fd000ec2000000000000000000000254',
  ipKey('fd00:ec2::254') as string,
  '',
  'host',
  '1.2.3',
  '1.2.3.4.5',
];

describe('comparisons of addresses', () => {
  it('hold exactly when the keys of the addresses are equal, whatever the spelling', () => {
    const connect = (address: string) =>
      buildEvent({
        network_connect: {
          process: { name: 'curl' },
          connection: { remote_address: address, remote_port: 80, local_address: '10.1.1.1' },
        },
      });
    for (const constant of ADDRESSES) {
      if (ipKey(constant) === undefined) continue;
      const quoted = JSON.stringify(constant);
      const equal = compileOne(`evt.type = connect and fd.sip = ${quoted}`);
      const listed = compileOne(`evt.type = connect and fd.sip in (${quoted}, "10.9.9.9")`);
      for (const address of ADDRESSES) {
        const key = ipKey(address);
        const expected = key !== undefined && key === ipKey(constant);
        const event = connect(address);
        expect(equal.matches(event), `${address} = ${constant}`).toBe(expected);
        expect(listed.matches(event), `${address} in (${constant})`).toBe(
          expected || key === '10.9.9.9',
        );
      }
    }
  });
});
