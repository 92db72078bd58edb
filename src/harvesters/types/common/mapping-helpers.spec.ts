import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { absoluteHref, withoutFragment } from './absolute-href.js';
import { bboxGeometry, geometryProblem } from './geometry-check.js';
import { htmlToText } from './html-to-text.js';

describe('remote HTML to text', () => {
  it('drops tags, scripts and comments, decodes entities, keeps paragraphs apart', () => {
    assert.equal(htmlToText('<p>No se provee informaci&oacute;n</p>'), 'No se provee información');
    assert.equal(htmlToText('<p>A &amp; B&nbsp;&lt;C&gt;</p><script>alert(1)</script><!-- x --><p>&#8364; &#x41;</p>'), 'A & B <C>\n€ A');
    assert.equal(htmlToText('one<br/>two<ul><li>x</li><li>y</li></ul>'), 'one\ntwo\n- x\n- y');
    assert.equal(htmlToText('&bogus; &#0;'), '&bogus; &#0;');
  });
});

describe('remote geometries', () => {
  const ring = [
    [0, 0],
    [1, 0],
    [1, 1],
    [0, 0],
  ];
  it('accepts valid GeoJSON in lon/lat and says what is wrong otherwise', () => {
    assert.equal(geometryProblem({ type: 'Polygon', coordinates: [ring] }), null);
    assert.equal(geometryProblem({ type: 'MultiPolygon', coordinates: [[ring], [ring]] }), null);
    assert.equal(geometryProblem({ type: 'GeometryCollection', geometries: [{ type: 'Point', coordinates: [1, 2] }] }), null);
    assert.match(String(geometryProblem({ type: 'Polygon', coordinates: [ring.slice(0, 3)] })), /3 positions, at least 4/);
    assert.match(String(geometryProblem({ type: 'Polygon', coordinates: [[...ring.slice(0, 3), [0, 1]]] })), /not closed/);
    assert.match(String(geometryProblem({ type: 'Point', coordinates: [500000, 5000000] })), /outside lon\/lat bounds/);
    assert.match(String(geometryProblem({ type: 'Point', coordinates: [1, Number.NaN] })), /finite/);
    assert.match(String(geometryProblem({ type: 'Circle' })), /not a GeoJSON geometry type/);
    assert.match(String(geometryProblem('POLYGON((0 0))')), /not a GeoJSON object/);
  });

  it('turns a bbox into a polygon, split in two across the antimeridian', () => {
    assert.deepEqual(bboxGeometry([1, 2, 3, 4]), {
      type: 'Polygon',
      coordinates: [
        [
          [1, 2],
          [3, 2],
          [3, 4],
          [1, 4],
          [1, 2],
        ],
      ],
    });
    const split = bboxGeometry([170, -10, -170, 10]);
    assert.equal(split?.type, 'MultiPolygon');
    assert.deepEqual(
      (split?.coordinates as number[][][][]).map((p) => [p[0][0][0], p[0][1][0]]),
      [
        [170, 180],
        [-180, -170],
      ],
    );
    assert.equal(bboxGeometry([0, 0, 0, 1, 1, 1])?.type, 'Polygon', '3D boxes are read');
    assert.equal(bboxGeometry([0, 10, 1, 5]), null);
    assert.equal(bboxGeometry('x'), null);
  });
});

describe('remote hrefs', () => {
  it('resolves against the holding document, and refuses what is not a URL', () => {
    assert.equal(absoluteHref('../b/c.json', 'http://h/a/x/catalog.json'), 'http://h/a/b/c.json');
    assert.equal(absoluteHref('https://o/x.tif', 'http://h/'), 'https://o/x.tif');
    assert.equal(absoluteHref('', 'http://h/'), null);
    assert.equal(absoluteHref(3, 'http://h/'), null);
    assert.equal(absoluteHref('http://[bad', 'http://h/'), null);
    assert.equal(withoutFragment('http://h/a.json#x'), 'http://h/a.json');
  });
});
