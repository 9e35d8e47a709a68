import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import semver from 'semver';
import { compareUpstream, dpkgVercmp, parseDpkgVersion, parseUpstream, rpmEvrCmp, rpmvercmp } from '../policies/vercmp.js';

// rpm-software-management/rpm tests/rpmvercmp.at (public vectors)
const RPM_VECTORS: [string, string, -1 | 0 | 1][] = [
  ['1.0', '1.0', 0],
  ['1.0', '2.0', -1],
  ['2.0', '1.0', 1],
  ['2.0.1', '2.0.1', 0],
  ['2.0', '2.0.1', -1],
  ['2.0.1', '2.0', 1],
  ['2.0.1a', '2.0.1a', 0],
  ['2.0.1a', '2.0.1', 1],
  ['2.0.1', '2.0.1a', -1],
  ['5.5p1', '5.5p1', 0],
  ['5.5p1', '5.5p2', -1],
  ['5.5p2', '5.5p1', 1],
  ['5.5p10', '5.5p10', 0],
  ['5.5p1', '5.5p10', -1],
  ['5.5p10', '5.5p1', 1],
  ['10xyz', '10.1xyz', -1],
  ['10.1xyz', '10xyz', 1],
  ['xyz10', 'xyz10', 0],
  ['xyz10', 'xyz10.1', -1],
  ['xyz10.1', 'xyz10', 1],
  ['xyz.4', 'xyz.4', 0],
  ['xyz.4', '8', -1],
  ['8', 'xyz.4', 1],
  ['xyz.4', '2', -1],
  ['2', 'xyz.4', 1],
  ['5.5p2', '5.6p1', -1],
  ['5.6p1', '5.5p2', 1],
  ['5.6p1', '6.5p1', -1],
  ['6.5p1', '5.6p1', 1],
  ['6.0.rc1', '6.0', 1],
  ['6.0', '6.0.rc1', -1],
  ['10b2', '10a1', 1],
  ['10a2', '10b2', -1],
  ['1.0aa', '1.0aa', 0],
  ['1.0a', '1.0aa', -1],
  ['1.0aa', '1.0a', 1],
  ['10.0001', '10.0001', 0],
  ['10.0001', '10.1', 0],
  ['10.1', '10.0001', 0],
  ['10.0001', '10.0039', -1],
  ['10.0039', '10.0001', 1],
  ['4.999.9', '5.0', -1],
  ['5.0', '4.999.9', 1],
  ['20101121', '20101121', 0],
  ['20101121', '20101122', -1],
  ['20101122', '20101121', 1],
  ['2_0', '2_0', 0],
  ['2.0', '2_0', 0],
  ['2_0', '2.0', 0],
  ['a', 'a', 0],
  ['a+', 'a+', 0],
  ['a+', 'a_', 0],
  ['a_', 'a+', 0],
  ['+a', '+a', 0],
  ['+a', '_a', 0],
  ['_a', '+a', 0],
  ['+_', '+_', 0],
  ['_+', '+_', 0],
  ['_+', '_+', 0],
  ['+', '_', 0],
  ['_', '+', 0],
  ['1.0~rc1', '1.0~rc1', 0],
  ['1.0~rc1', '1.0', -1],
  ['1.0', '1.0~rc1', 1],
  ['1.0~rc1', '1.0~rc2', -1],
  ['1.0~rc2', '1.0~rc1', 1],
  ['1.0~rc1~git123', '1.0~rc1~git123', 0],
  ['1.0~rc1~git123', '1.0~rc1', -1],
  ['1.0~rc1', '1.0~rc1~git123', 1],
  ['1.0^', '1.0^', 0],
  ['1.0^', '1.0', 1],
  ['1.0', '1.0^', -1],
  ['1.0^git1', '1.0^git1', 0],
  ['1.0^git1', '1.0', 1],
  ['1.0', '1.0^git1', -1],
  ['1.0^git1', '1.0^git2', -1],
  ['1.0^git2', '1.0^git1', 1],
  ['1.0^git1', '1.01', -1],
  ['1.01', '1.0^git1', 1],
  ['1.0^20160101', '1.0^20160101', 0],
  ['1.0^20160101', '1.0.1', -1],
  ['1.0.1', '1.0^20160101', 1],
  ['1.0^20160101^git1', '1.0^20160101^git1', 0],
  ['1.0^20160102', '1.0^20160101^git1', 1],
  ['1.0^20160101^git1', '1.0^20160102', -1],
  ['1.0~rc1^git1', '1.0~rc1^git1', 0],
  ['1.0~rc1^git1', '1.0~rc1', 1],
  ['1.0~rc1', '1.0~rc1^git1', -1],
  ['1.0^git1~pre', '1.0^git1~pre', 0],
  ['1.0^git1', '1.0^git1~pre', 1],
  ['1.0^git1~pre', '1.0^git1', -1],
  // rpm's "oddities" section: documented quirks, kept as they are
  ['1b.fc17', '1b.fc17', 0],
  ['1b.fc17', '1.fc17', -1],
  ['1.fc17', '1b.fc17', 1],
  ['1g.fc17', '1g.fc17', 0],
  ['1g.fc17', '1.fc17', 1],
  ['1.fc17', '1g.fc17', -1],
  ['1.1.α', '1.1.α', 0],
];

// Kernel traps (anchors.md §4): the z-stream after the base build, numeric not lexical.
const RPM_KERNEL_TRAPS: [string, string, -1 | 1][] = [
  ['693.el7', '693.1.1.el7', -1],
  ['553.el8_10', '553.157.1.el8_10', -1],
  ['193.28.1.el8_2', '193.el8', 1],
  ['1160.el7', '1160.119.1.el7', -1],
  ['1160.119.1.el7', '1160.118.1.el7', 1],
  ['240.el8', '193.28.1.el8_2', 1],
  ['70.13.1.el9_0', '70.30.1.el9_0', -1],
  ['427.13.1.el9_4', '70.13.1.el9_0', 1],
];

describe('rpmvercmp', () => {
  for (const [a, b, want] of RPM_VECTORS) {
    test(`rpmvercmp(${a}, ${b}) = ${want}`, () => assert.equal(rpmvercmp(a, b), want));
  }
  for (const [a, b, want] of RPM_KERNEL_TRAPS) {
    test(`kernel trap ${a} ${want < 0 ? '<' : '>'} ${b}`, () => {
      assert.equal(rpmvercmp(a, b), want);
      assert.equal(rpmvercmp(b, a), -want);
    });
  }
  test('EVR: epoch first, then version, then release', () => {
    assert.equal(rpmEvrCmp('1:3.10.0-1160.el7', '4.18.0-193.el8'), 1);
    assert.equal(rpmEvrCmp('4.18.0-193.28.1.el8_2', '4.18.0-193.el8'), 1);
    assert.equal(rpmEvrCmp('3.10.0-693.el7', '3.10.0-693.1.1.el7'), -1);
    assert.equal(rpmEvrCmp('4.18.0', '4.18.0-240.el8'), 0);
  });
});

// dpkg: lib/dpkg/t/t-version.c and Debian Policy §5.6.12 examples
const DPKG_VECTORS: [string, string, -1 | 0 | 1][] = [
  ['1.0', '1.0', 0],
  ['1.0~rc1', '1.0', -1],
  ['1.0~rc1', '1.0~rc2', -1],
  ['1.0~~', '1.0~', -1],
  ['1.0~', '1.0', -1],
  ['1.0~~a', '1.0~~', 1],
  ['1.0-1', '1.0-1+b1', -1],
  ['1:0.9', '2.0', 1],
  ['0:1.0', '1.0', 0],
  ['1.0a', '1.0+', -1],
  ['1.0a', '1.0', 1],
  ['1.0', '1.0.1', -1],
  ['1.0.a', '1.0.1', 1],
  ['1.0-1', '1.0-2', -1],
  ['1.0-10', '1.0-9', 1],
  ['1.0-1', '1.0', 1],
  ['2.30', '2.3', 1],
  ['1.002', '1.2', 0],
  ['1.0', '1.0-0', 0],
  ['a', 'b', -1],
  ['1.0+dfsg', '1.0', 1],
  ['1.0+dfsg~1', '1.0+dfsg', -1],
  ['7.6p2-4', '7.6-0', 1],
  ['1.0.3-3', '1.0-1', 1],
  ['1.3', '1.2.2-2', 1],
  ['1.3', '1.2.2', 1],
  ['0-pre', '0-pre', 0],
  ['0-pre', '0-pree', -1],
  ['1.1.6r2-2', '1.1.6r-1', 1],
  ['2.6b2-1', '2.6b-2', 1],
  ['98.1p5-1', '98.1-pre2-b6-2', -1],
  ['0.4a6-2', '0.4-1', 1],
  ['1:3.0.5+dfsg-2', '3.0.5+dfsg-3', 1],
  // kernel package traps
  ['6.12.90-1+deb13', '6.12.90-1+deb13.1', -1],
  ['6.1.76-1', '6.1.129-1', -1],
  ['4.19.118-2~bpo9+1', '4.19.118-2', -1],
  ['4.19.118-2+deb10u1', '4.19.118-2', 1],
  ['5.4.0-100.113', '5.4.0-42.46', 1],
  ['5.15.0-91.101~20.04.1', '5.15.0-91.101', -1],
  ['6.8~rc7-1~exp1', '6.8-1', -1],
];

describe('dpkgVercmp', () => {
  for (const [a, b, want] of DPKG_VECTORS) {
    test(`dpkgVercmp(${a}, ${b}) = ${want}`, () => {
      assert.equal(dpkgVercmp(a, b), want);
      assert.equal(dpkgVercmp(b, a), -want === 0 ? 0 : -want);
    });
  }
  test('parse: epoch, upstream with dashes, revision after the last dash', () => {
    assert.deepEqual(parseDpkgVersion('1:2.0-3-4'), { epoch: 1, upstream: '2.0-3', revision: '4' });
    assert.deepEqual(parseDpkgVersion('6.1.76'), { epoch: 0, upstream: '6.1.76', revision: '' });
    assert.throws(() => parseDpkgVersion('x:1.0'), /epoch/);
  });
});

describe('compareUpstream', () => {
  const cases: [string, string, -1 | 0 | 1][] = [
    ['5.5.0-rc1', '5.5.0', -1],
    ['5.5-rc1', '5.5.0-rc1', 0],
    ['5.5.0-rc7', '5.5.0-rc1', 1],
    ['5.5.0-rc1', '5.4.999', 1],
    ['5.4.68', '5.4.69', -1],
    ['5.4.69', '5.4.69', 0],
    ['5.4.100', '5.4.69', 1],
    ['4.19.300', '5.4.0', -1],
    ['10.0.0', '9.99.99', 1],
    ['6.1', '6.1.0', 0],
    ['3.15.0-rc1', '3.14.79', 1],
  ];
  for (const [a, b, want] of cases) {
    test(`compareUpstream(${a}, ${b}) = ${want}`, () => assert.equal(compareUpstream(a, b), want));
  }
  test('semver.coerce is wrong for kernels (why this module exists)', () => {
    // 5.4.0-100-generic vs 5.4.0-42-generic as semver prereleases: compared as strings, backwards
    assert.equal(semver.compare('5.4.0-100-generic', '5.4.0-42-generic'), -1);
    assert.equal(semver.coerce('4.18.0-193.28.1.el8_2.x86_64')?.version, '4.18.0');
    // the rpm and dpkg comparators get it right
    assert.equal(rpmvercmp('5.4.0-100', '5.4.0-42'), 1);
    assert.equal(dpkgVercmp('5.4.0-100', '5.4.0-42'), 1);
  });
  test('rejects what is not an upstream version', () => {
    assert.equal(parseUpstream('5.4.0-42-generic'), null);
    assert.throws(() => compareUpstream('abc', '5.5'), /not an upstream kernel version/);
  });
});
