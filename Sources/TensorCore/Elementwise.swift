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
        let (rows, strides) = Shape.coalesced(outShape, [Shape.broadcastStrides(shape, to: outShape),
                                                         Shape.broadcastStrides(other.shape, to: outShape),
                                                         Shape.strides(outShape)])
        let n = rows.last!
        let ia = strides[0].last!, ib = strides[1].last!
        var out = [S](overwrittenCount: Shape.count(outShape))
        data.withUnsafeBufferPointer { a in
            other.data.withUnsafeBufferPointer { b in
                out.withUnsafeMutableBufferPointer { o in
                    forEachRow(shape: rows, strides: strides) { off in
                        let (pa, pb, po) = (off[0], off[1], off[2])
                        switch (ia, ib) {
                        case (1, 0):
                            let y = b[pb]
                            for j in 0..<n { o[po + j] = f(a[pa + j], y) }
                        case (0, 1):
                            let x = a[pa]
                            for j in 0..<n { o[po + j] = f(x, b[pb + j]) }
                        default:
                            for j in 0..<n { o[po + j] = f(a[pa + j * ia], b[pb + j * ib]) }
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
