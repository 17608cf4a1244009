import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Client } from '../../src/cli/client.ts';
import { Context, type Command, type Io } from '../../src/cli/command.ts';

describe('the --url a printed command line carries', () => {
  const ctx = new Context({ name: 'nodes add' } as Command, {}, [], { env: {} } as unknown as Io);
  const at = (url: string) => ctx.urlArgument(new Client({ url, token: 't' }));

  it('is left out at the default, and plain where the URL is', () => {
    assert.equal(at('http://127.0.0.1:8080'), '');
    assert.equal(at('https://lifeline.example.com:9443/base'), ' --url https://lifeline.example.com:9443/base');
  });

  it('is quoted for the shell where the URL holds what sh reads otherwise: & ends a command, ? and * glob', () => {
    assert.equal(at('https://proxy.example/lifeline?tenant=a&x=1'), " --url 'https://proxy.example/lifeline?tenant=a&x=1'");
  });
});
