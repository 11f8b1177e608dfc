/// Binary elementwise operations with NumPy broadcasting.
public enum BinaryOperator: Sendable {
    case add, subtract, multiply, divide
}

/// Unary elementwise operations.
public enum UnaryOperator: Sendable {
    case negate, exp, log
}

extension NDArray {
    /// `op(self, other)` elementwise; the result has the broadcast shape.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func applying(_ op: BinaryOperator, _ other: NDArray) -> NDArray {
        switch op {
        case .add: return zipBroadcast(other) { $0 + $1 }
        case .subtract: return zipBroadcast(other) { $0 - $1 }
        case .multiply: return zipBroadcast(other) { $0 * $1 }
        case .divide: return zipBroadcast(other) { $0 / $1 }
        }
    }

    /// `op(self)` elementwise.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func applying(_ op: UnaryOperator) -> NDArray {
        switch op {
        case .negate: return map { -$0 }
        case .exp: return map { S.exp($0) }
        case .log: return map { S.log($0) }
        }
    }

    /// Elementwise transform (same shape).
    @inline(__always)
    public func map(_ f: (S) -> S) -> NDArray {
        var out = [S](overwrittenCount: count)
        data.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for i in 0..<src.count { dst[i] = f(src[i]) }
            }
        }
        return NDArray(shape: shape, data: out)
    }

    /// `f(self, other)` elementwise over the broadcast shape.
    @inline(__always)
    func zipBroadcast(_ other: NDArray, _ f: (S, S) -> S) -> NDArray {
        if shape == other.shape {
            var out = [S](overwrittenCount: count)
            data.withUnsafeBufferPointer { a in
                other.data.withUnsafeBufferPointer { b in
                    out.withUnsafeMutableBufferPointer { o in
                        for i in 0..<o.count { o[i] = f(a[i], b[i]) }
                    }
                }
            }
            return NDArray(shape: shape, data: out)
        }
        let outShape = Shape.broadcast(shape, other.shape)
        if other.count == 1 {
            let s = other.data[0]
            return NDArray(shape: outShape, data: data.map { f($0, s) })
        }
        if count == 1 {
            let s = data[0]
            return NDArray(shape: outShape, data: other.data.map { f(s, $0) })
        }
        let sa = Shape.broadcastStrides(shape, to: outShape)
        let sb = Shape.broadcastStrides(other.shape, to: outShape)
        let so = Shape.strides(outShape)
        let n = outShape.last ?? 1
        let ia = sa.last ?? 0, ib = sb.last ?? 0
        var out = [S](overwrittenCount: Shape.count(outShape))
        data.withUnsafeBufferPointer { a in
            other.data.withUnsafeBufferPointer { b in
                out.withUnsafeMutableBufferPointer { o in
                    forEachRow(shape: outShape, strides: [sa, sb, so]) { off in
                        var pa = off[0], pb = off[1]
                        let po = off[2]
                        for j in 0..<n {
                            o[po + j] = f(a[pa], b[pb])
                            pa += ia; pb += ib
                        }
                    }
                }
            }
        }
        return NDArray(shape: outShape, data: out)
    }

    /// `self` read as if broadcast to `target` (a materialised copy).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func expanded(to target: [Int]) -> NDArray {
        if shape == target { return self }
        return gathered(shape: target, sourceStrides: Shape.broadcastStrides(shape, to: target))
    }

    /// 1 where the element is > 0, else `slope` (the derivative mask of leaky ReLU).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func leakyReLUMask(slope: S) -> NDArray { map { $0 > 0 ? 1 : slope } }

    /// `ifNonNegative` where the element is ≥ 0, else `ifNegative` (e.g. sign masks).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func mask(ifNonNegative: S, ifNegative: S) -> NDArray { map { $0 >= 0 ? ifNonNegative : ifNegative } }
}
