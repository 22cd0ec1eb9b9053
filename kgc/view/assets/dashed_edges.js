// Dashed edges for sigma.js 3 (the links fusion inferred): sigma has no dashed edge program, so this
// is its "clamped" edge program (room left for an arrow head) with a fragment shader that skips every
// other DASH_PX pixels along the edge. Defines window.kgcDashedEdgeProgram(withArrowRoom) -> class.
(function () {
  "use strict";
  const rendering = Sigma.rendering;
  const DASH_PX = 5.0;
  const DASHED_VERTEX = `
  attribute vec4 a_id;
  attribute vec4 a_color;
  attribute vec2 a_normal;
  attribute float a_normalCoef;
  attribute vec2 a_positionStart;
  attribute vec2 a_positionEnd;
  attribute float a_positionCoef;
  attribute float a_radius;
  attribute float a_radiusCoef;
  uniform mat3 u_matrix;
  uniform float u_zoomRatio;
  uniform float u_sizeRatio;
  uniform float u_pixelRatio;
  uniform float u_correctionRatio;
  uniform float u_minEdgeThickness;
  uniform float u_lengthToThicknessRatio;
  uniform float u_feather;
  uniform vec2 u_dimensions;
  varying vec4 v_color;
  varying vec2 v_normal;
  varying float v_thickness;
  varying float v_feather;
  varying float v_along;
  const float bias = 255.0 / 254.0;
  void main() {
  float radius = a_radius * a_radiusCoef;
  vec2 normal = a_normal * a_normalCoef;
  vec2 position = a_positionStart * (1.0 - a_positionCoef) + a_positionEnd * a_positionCoef;
  float normalLength = length(normal);
  vec2 unitNormal = normal / normalLength;
  float pixelsThickness = max(normalLength, u_minEdgeThickness * u_sizeRatio);
  float webGLThickness = pixelsThickness * u_correctionRatio / u_sizeRatio;
  float direction = sign(radius);
  float webGLNodeRadius = direction * radius * 2.0 * u_correctionRatio / u_sizeRatio;
  float webGLArrowHeadLength = webGLThickness * u_lengthToThicknessRatio * 2.0;
  vec2 compensationVector = vec2(-direction * unitNormal.y, direction * unitNormal.x) * (webGLNodeRadius + webGLArrowHeadLength);
  gl_Position = vec4((u_matrix * vec3(position + unitNormal * webGLThickness + compensationVector, 1)).xy, 0, 1);
  vec2 startClip = (u_matrix * vec3(a_positionStart, 1)).xy;
  vec2 endClip = (u_matrix * vec3(a_positionEnd, 1)).xy;
  v_along = a_positionCoef * length((endClip - startClip) * u_dimensions / 2.0);
  v_thickness = webGLThickness / u_zoomRatio;
  v_normal = unitNormal;
  v_feather = u_feather * u_correctionRatio / u_zoomRatio / u_pixelRatio * 2.0;
  #ifdef PICKING_MODE
  v_color = a_id;
  #else
  v_color = a_color;
  #endif
  v_color.a *= bias;
  }`;
  const DASHED_FRAGMENT = `
  precision mediump float;
  varying vec4 v_color;
  varying vec2 v_normal;
  varying float v_thickness;
  varying float v_feather;
  varying float v_along;
  const vec4 transparent = vec4(0.0, 0.0, 0.0, 0.0);
  void main(void) {
  #ifdef PICKING_MODE
  gl_FragColor = v_color;
  #else
  if (mod(v_along, ${2 * DASH_PX}.0) > ${DASH_PX}.0) discard;
  float dist = length(v_normal) * v_thickness;
  float t = smoothstep(v_thickness - v_feather, v_thickness, dist);
  gl_FragColor = mix(v_color, transparent, t);
  #endif
  }`;

  function dashedProgram(withArrowRoom) {
    const { FLOAT, UNSIGNED_BYTE, TRIANGLES } = WebGLRenderingContext;
    return class DashedEdgeProgram extends rendering.EdgeProgram {
      getDefinition() {
        return {
          VERTICES: 6,
          VERTEX_SHADER_SOURCE: DASHED_VERTEX,
          FRAGMENT_SHADER_SOURCE: DASHED_FRAGMENT,
          METHOD: TRIANGLES,
          UNIFORMS: ["u_matrix", "u_zoomRatio", "u_sizeRatio", "u_correctionRatio", "u_pixelRatio",
            "u_feather", "u_minEdgeThickness", "u_lengthToThicknessRatio", "u_dimensions"],
          ATTRIBUTES: [
            { name: "a_positionStart", size: 2, type: FLOAT },
            { name: "a_positionEnd", size: 2, type: FLOAT },
            { name: "a_normal", size: 2, type: FLOAT },
            { name: "a_color", size: 4, type: UNSIGNED_BYTE, normalized: true },
            { name: "a_id", size: 4, type: UNSIGNED_BYTE, normalized: true },
            { name: "a_radius", size: 1, type: FLOAT },
          ],
          CONSTANT_ATTRIBUTES: [
            { name: "a_positionCoef", size: 1, type: FLOAT },
            { name: "a_normalCoef", size: 1, type: FLOAT },
            { name: "a_radiusCoef", size: 1, type: FLOAT },
          ],
          CONSTANT_DATA: [[0, 1, 0], [0, -1, 0], [1, 1, 1], [1, 1, 1], [0, -1, 0], [1, -1, -1]],
        };
      }
      processVisibleItem(edgeIndex, startIndex, sourceData, targetData, attrs) {
        const thickness = attrs.size || 1;
        const dx = targetData.x - sourceData.x;
        const dy = targetData.y - sourceData.y;
        let len = dx * dx + dy * dy;
        let n1 = 0;
        let n2 = 0;
        if (len) {
          len = 1 / Math.sqrt(len);
          n1 = -dy * len * thickness;
          n2 = dx * len * thickness;
        }
        const a = this.array;
        a[startIndex++] = sourceData.x;
        a[startIndex++] = sourceData.y;
        a[startIndex++] = targetData.x;
        a[startIndex++] = targetData.y;
        a[startIndex++] = n1;
        a[startIndex++] = n2;
        a[startIndex++] = Sigma.utils.floatColor(attrs.color);
        a[startIndex++] = edgeIndex;
        a[startIndex++] = withArrowRoom ? targetData.size || 1 : 0;
      }
      setUniforms(params, { gl, uniformLocations: u }) {
        gl.uniformMatrix3fv(u.u_matrix, false, params.matrix);
        gl.uniform1f(u.u_zoomRatio, params.zoomRatio);
        gl.uniform1f(u.u_sizeRatio, params.sizeRatio);
        gl.uniform1f(u.u_correctionRatio, params.correctionRatio);
        gl.uniform1f(u.u_pixelRatio, params.pixelRatio);
        gl.uniform1f(u.u_feather, params.antiAliasingFeather);
        gl.uniform1f(u.u_minEdgeThickness, params.minEdgeThickness);
        gl.uniform1f(u.u_lengthToThicknessRatio, 2.5);
        gl.uniform2f(u.u_dimensions, params.width, params.height);
      }
    };
  }

  window.kgcDashedEdgeProgram = dashedProgram;
})();
