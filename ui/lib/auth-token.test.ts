import { describe, expect, it } from 'vitest';
import { isApiToken, takeFragmentToken } from './auth-token';

const token = `tern_${'a'.repeat(43)}`;

describe('takeFragmentToken', () => {
  it('takes the token out of the fragment and keeps the rest', () => {
    expect(takeFragmentToken(`#token=${token}`)).toEqual({ token, rest: '' });
    expect(takeFragmentToken(`#token=${token}&x=1`)).toEqual({ token, rest: '#x=1' });
  });

  it('leaves a fragment without a token alone', () => {
    expect(takeFragmentToken('#ses_abc12345')).toEqual({ token: null, rest: '#ses_abc12345' });
    expect(takeFragmentToken('')).toEqual({ token: null, rest: '' });
  });

  it('strips a malformed token without keeping it', () => {
    expect(takeFragmentToken('#token=not-a-token')).toEqual({ token: null, rest: '' });
  });
});

describe('isApiToken', () => {
  it('accepts only tern_ and 43 base64url characters', () => {
    expect(isApiToken(token)).toBe(true);
    expect(isApiToken(`${token}x`)).toBe(false);
    expect(isApiToken(`sk-${'a'.repeat(43)}`)).toBe(false);
  });
});
